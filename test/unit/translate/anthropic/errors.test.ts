import { describe, expect, test } from "bun:test";
import {
  AnthropicApiError,
  anthropicErrorBody,
  anthropicErrorResponse,
  anthropicErrorType,
  AnthropicResponseSchema,
  fromUpstreamError,
  toAnthropicError,
} from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";

const envelope = checker(AnthropicResponseSchema.ErrorEnvelope);

describe("Anthropic error envelope", () => {
  test.each([
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [402, "billing_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [405, "invalid_request_error"],
    [408, "timeout_error"],
    [413, "request_too_large"],
    [422, "invalid_request_error"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [501, "api_error"],
    [502, "api_error"],
    [503, "overloaded_error"],
    [504, "timeout_error"],
    [529, "overloaded_error"],
  ])("HTTP %d → %s", (status, type) => {
    expect(anthropicErrorType(status)).toBe(type as never);
    const body = anthropicErrorBody(status, "why");
    expect(body).toEqual({ type: "error", error: { type: type as never, message: "why" } });
    expect(envelope.explain(body)).toBeUndefined();
  });

  test("request id in the body and the request-id header; extra headers kept", async () => {
    const response = anthropicErrorResponse(413, "request is larger than 10485760 bytes", {
      requestId: "req_abc",
      headers: { "x-olla-request-id": "req_abc" },
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("request-id")).toBe("req_abc");
    expect(response.headers.get("x-olla-request-id")).toBe("req_abc");
    expect(response.headers.get("content-type")).toStartWith("application/json");
    expect(await response.json()).toEqual({
      type: "error",
      error: { type: "request_too_large", message: "request is larger than 10485760 bytes" },
      request_id: "req_abc",
    });
  });

  test("AnthropicApiError: type from status unless given; toAnthropicError wraps anything else as 500", () => {
    const error = new AnthropicApiError(404, "model not found");
    expect(error).toMatchObject({ status: 404, type: "not_found_error", message: "model not found" });
    expect(new AnthropicApiError(503, "x", "api_error").type).toBe("api_error");
    expect(toAnthropicError(error)).toBe(error);
    // olla's own faults tell the client nothing of its insides.
    expect(toAnthropicError(new RangeError("Maximum call stack size exceeded."))).toMatchObject({
      status: 500,
      type: "api_error",
      message: "internal error in olla",
    });
    expect(toAnthropicError("text")).toMatchObject({ status: 500, message: "internal error in olla" });
  });
});

describe("fromUpstreamError: backend error bodies", () => {
  test.each([
    [
      400,
      { error: { message: "max_tokens too large", type: "invalid_request_error", code: null } },
      "max_tokens too large",
      "invalid_request_error",
    ],
    [
      404,
      { error: { code: 404, message: "model 'x' not found", type: "not_found_error" } },
      "model 'x' not found",
      "not_found_error",
    ],
    [
      500,
      { error: "llama runner process has terminated" },
      "llama runner process has terminated",
      "api_error",
    ],
    [
      400,
      { object: "error", message: "vLLM: prompt too long", type: "BadRequestError", code: 400 },
      "vLLM: prompt too long",
      "invalid_request_error",
    ],
    [422, { detail: "Unprocessable" }, "Unprocessable", "invalid_request_error"],
    [
      422,
      { detail: [{ loc: ["body", "messages"], msg: "field required" }] },
      '[{"loc":["body","messages"],"msg":"field required"}]',
      "invalid_request_error",
    ],
    [503, { something: "else" }, "backend returned HTTP 503", "overloaded_error"],
    [502, null, "backend returned HTTP 502", "api_error"],
    [502, "<html>Bad Gateway</html>", "<html>Bad Gateway</html>", "api_error"],
    [500, "   ", "backend returned HTTP 500", "api_error"],
    [
      429,
      { type: "error", error: { type: "rate_limit_error", message: "slow down" } },
      "slow down",
      "rate_limit_error",
    ],
    // A native Anthropic error keeps its own type even if the status maps elsewhere.
    [
      500,
      { type: "error", error: { type: "overloaded_error", message: "busy" } },
      "busy",
      "overloaded_error",
    ],
  ])("%d %j", (status, body, message, type) => {
    const error = fromUpstreamError(status, body);
    expect(error).toMatchObject({ status, message, type });
  });

  test("long text bodies are cut", () => {
    expect(fromUpstreamError(500, "x".repeat(2000)).message).toHaveLength(500);
  });
});
