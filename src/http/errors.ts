// Error bodies in the caller's own API format, so every client library can read what went wrong:
// OpenAI {error:{message,type,code}}, Ollama {error}, Anthropic {type:"error",error:{type,message}}.

import { anthropicErrorBody } from "../translate/anthropic/error-envelope.ts";

export type ApiFamily = "openai" | "ollama" | "anthropic";

/** Which API a path belongs to; OpenAI's envelope is the default for olla's own routes. */
export function apiFamily(pathname: string): ApiFamily {
  if (pathname.startsWith("/olla/anthropic/")) return "anthropic";
  // Past "/olla" (index 5), so that /olla/api/... counts too; no slice, no regex: it runs per request.
  if (pathname.indexOf("/api/", pathname.startsWith("/olla/") ? 5 : 0) !== -1) return "ollama";
  if (isMessagesPath(pathname)) return "anthropic";
  return "openai";
}

const MESSAGES = "/v1/messages";
const COUNT_TOKENS = "/v1/messages/count_tokens";

/** /v1/messages or /v1/messages/count_tokens forwarded by /olla/, /olla/proxy/ or /olla/<provider>/:
 *  Anthropic's API on an endpoint that speaks it natively, so its clients read Anthropic's envelope. */
function isMessagesPath(pathname: string): boolean {
  if (!pathname.startsWith("/olla/")) return false;
  let end: number;
  if (pathname.endsWith(MESSAGES)) end = pathname.length - MESSAGES.length;
  else if (pathname.endsWith(COUNT_TOKENS)) end = pathname.length - COUNT_TOKENS.length;
  else return false;
  // "/olla" itself, or "/olla/<one segment>" (proxy or a provider), before the route path.
  return end === 5 || (end > 6 && pathname.lastIndexOf("/", end - 1) === 5);
}

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  408: "timeout_error",
  413: "invalid_request_error",
  429: "rate_limit_error",
  431: "invalid_request_error",
  502: "upstream_error",
  503: "service_unavailable",
  504: "timeout_error",
};

export interface ErrorOptions {
  /** A stable machine-readable code, e.g. "model_not_found". */
  code?: string;
  headers?: ResponseInit["headers"];
  /** Extra top-level fields (e.g. the endpoints a failover tried). */
  details?: Record<string, unknown>;
}

export function errorBody(
  family: ApiFamily,
  status: number,
  message: string,
  options: ErrorOptions = {},
): unknown {
  if (family === "ollama") return { error: message, ...options.details };
  if (family === "anthropic") return { ...anthropicErrorBody(status, message), ...options.details };
  const type = OPENAI_TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error");
  return { error: { message, type, code: options.code ?? null }, ...options.details };
}

export function errorResponse(
  family: ApiFamily,
  status: number,
  message: string,
  options: ErrorOptions = {},
) {
  return Response.json(errorBody(family, status, message, options), { status, headers: options.headers });
}
