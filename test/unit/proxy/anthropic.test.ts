import { describe, expect, test } from "bun:test";
import { applyProfile } from "../../../src/endpoints/index.ts";
import { anthropicAdapter } from "../../../src/proxy/anthropic.ts";
import type { PreparedRequest } from "../../../src/proxy/api-adapter.ts";
import { inspectBody } from "../../../src/proxy/inspect.ts";
import { testEndpoint } from "../../support/endpoints.ts";

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

function adapter(passthrough = true) {
  return anthropicAdapter({
    passthrough,
    maxMessageSize: 1 << 20,
    startedAt: new Date(0),
  });
}

function prepare(body: unknown, passthrough = true): PreparedRequest {
  const bytes = encode(body);
  const { modelAt } = inspectBody(bytes, "application/json");
  const prepared = adapter(passthrough).prepare(bytes, { requestId: "r1", headers: new Headers(), modelAt });
  if (prepared instanceof Response) throw new Error("expected a prepared request");
  return prepared;
}

const ollama = () => testEndpoint({ type: "ollama" });
const sglang = () => testEndpoint({ type: "sglang", url: "http://127.0.0.1:30000" });
const request = { model: "qwen3", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };

describe("anthropic adapter: passthrough or translation per endpoint", () => {
  test("native endpoints get the client's bytes on their messages path; others get chat completions", () => {
    const prepared = prepare(request);
    const native = prepared.forEndpoint(ollama(), undefined);
    expect(native).toMatchObject({ path: "/v1/messages", mode: "passthrough" });
    expect(decode(native.body)).toEqual(request);
    const translated = prepared.forEndpoint(sglang(), undefined);
    expect(translated.path).toBe("/v1/chat/completions");
    expect(translated.mode).toBe("translation");
    expect(decode(translated.body)).toMatchObject({
      model: "qwen3",
      messages: [{ role: "user", content: "hi" }],
    });
  });

  test("the endpoint's own name for the model is used either way", () => {
    const prepared = prepare(request);
    expect(decode(prepared.forEndpoint(ollama(), "qwen3:8b").body).model).toBe("qwen3:8b");
    expect(decode(prepared.forEndpoint(sglang(), "Qwen/Qwen3-8B").body).model).toBe("Qwen/Qwen3-8B");
  });

  test("a profile limitation the request runs into means translation; passthrough_enabled: false too", () => {
    const limited = ollama();
    applyProfile(limited, {
      ...limited.profile,
      anthropic: { messagesPath: "/v1/messages", tokenCount: false, limitations: ["no_tool_use"] },
    });
    const withTools = prepare({
      ...request,
      tools: [{ name: "t", input_schema: { type: "object" } }],
    });
    expect(withTools.forEndpoint(limited, undefined).mode).toBe("translation");
    expect(prepare(request).forEndpoint(limited, undefined).mode).toBe("passthrough");
    expect(prepare(request, false).forEndpoint(ollama(), undefined).mode).toBe("translation");
  });

  test("invalid requests are answered at once in Anthropic's format", async () => {
    const answer = adapter().prepare(new TextEncoder().encode("{nope"), {
      requestId: "r9",
      headers: new Headers(),
      modelAt: undefined,
    });
    expect(answer).toBeInstanceOf(Response);
    const response = answer as Response;
    expect(response.status).toBe(400);
    expect(response.headers.get("request-id")).toBe("r9");
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
  });
});
