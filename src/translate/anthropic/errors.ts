// Errors in Anthropic's envelope {"type":"error","error":{"type","message"}} (built in error-envelope.ts):
// the typed error the translation throws, and the reading of a backend's OpenAI-style error.
import { anthropicErrorBody, anthropicErrorType, ERROR_TYPES } from "./error-envelope.ts";
import type { ErrorEnvelope, ErrorType } from "./schema-response.ts";
import { ErrorBody } from "./schema-openai.ts";
import { checker } from "./validate.ts";

export { anthropicErrorBody, anthropicErrorType } from "./error-envelope.ts";

/** Thrown by the translation; carries the status and a message fit for the client. */
export class AnthropicApiError extends Error {
  readonly type: ErrorType;
  constructor(
    readonly status: number,
    message: string,
    type?: ErrorType,
  ) {
    super(message);
    this.type = type ?? anthropicErrorType(status);
  }
}

/** The JSON error response, with Anthropic's `request-id` header when the request has an id. */
export function anthropicErrorResponse(
  status: number,
  message: string,
  options: { type?: ErrorType; requestId?: string; headers?: Record<string, string> } = {},
): Response {
  const headers = new Headers(options.headers);
  if (options.requestId) headers.set("request-id", options.requestId);
  return Response.json(anthropicErrorBody(status, message, options), { status, headers });
}

/** Any thrown value → the envelope parts: our typed errors keep their status, the rest is a 500 whose
 *  message says nothing of olla's insides (the caller logs the error itself). */
export function toAnthropicError(error: unknown): AnthropicApiError {
  if (error instanceof AnthropicApiError) return error;
  return new AnthropicApiError(500, "internal error in olla");
}

const errorBody = checker(ErrorBody);
const MAX_TEXT = 500;

/** A backend's error answer (status ≥ 400; body parsed JSON, raw text, or nothing) as an Anthropic error
 *  with the same status. A body that already is an Anthropic envelope keeps its type. */
export function fromUpstreamError(status: number, body: unknown): AnthropicApiError {
  const fallback = `backend returned HTTP ${status}`;
  if (typeof body === "string") {
    const text = body.trim();
    return new AnthropicApiError(status, text ? text.slice(0, MAX_TEXT) : fallback);
  }
  if (isAnthropicEnvelope(body)) return new AnthropicApiError(status, body.error.message, body.error.type);
  return new AnthropicApiError(
    status,
    errorBody.check(body) ? (upstreamMessage(body) ?? fallback) : fallback,
  );
}

/** The message inside an OpenAI-style error body, if there is one (also used for mid-stream errors). */
export function upstreamMessage(body: ErrorBody): string | undefined {
  const { error } = body;
  if (typeof error === "string" && error) return error;
  if (error && typeof error === "object" && error.message) return error.message;
  if (typeof body.message === "string" && body.message) return body.message;
  if (typeof body.detail === "string" && body.detail) return body.detail;
  // FastAPI validation errors: detail is a list of {loc, msg}.
  if (Array.isArray(body.detail) && body.detail.length > 0)
    return JSON.stringify(body.detail).slice(0, MAX_TEXT);
  return undefined;
}

const KNOWN_TYPES = new Set<string>(Object.values(ERROR_TYPES));

function isAnthropicEnvelope(body: unknown): body is ErrorEnvelope {
  if (!body || typeof body !== "object") return false;
  const { type, error } = body as { type?: unknown; error?: { type?: unknown; message?: unknown } };
  return (
    type === "error" &&
    typeof error?.message === "string" &&
    typeof error.type === "string" &&
    KNOWN_TYPES.has(error.type)
  );
}
