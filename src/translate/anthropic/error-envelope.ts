// Anthropic's error envelope {"type":"error","error":{"type","message"}} and the status → type table:
// plain functions, so src/http/errors.ts can answer in Anthropic's format without loading the
// translation (and its TypeBox schemas) that errors.ts belongs to.
import type { ErrorEnvelope, ErrorType } from "./schema-response.ts";

export const ERROR_TYPES: Record<number, ErrorType> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  408: "timeout_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  502: "api_error",
  503: "overloaded_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** 503 (no endpoint free / backend busy) is overloaded_error: it is Anthropic's "try again shortly" and
 *  what src/http/errors.ts already answers; 502 (the backend broke) stays api_error, 504 is timeout_error.
 *  Other 4xx are invalid_request_error, other 5xx api_error. */
export function anthropicErrorType(status: number): ErrorType {
  return ERROR_TYPES[status] ?? (status >= 400 && status < 500 ? "invalid_request_error" : "api_error");
}

export function anthropicErrorBody(
  status: number,
  message: string,
  options: { type?: ErrorType; requestId?: string } = {},
): ErrorEnvelope {
  const body: ErrorEnvelope = {
    type: "error",
    error: { type: options.type ?? anthropicErrorType(status), message },
  };
  if (options.requestId) body.request_id = options.requestId;
  return body;
}
