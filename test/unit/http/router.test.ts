import { describe, expect, test } from "bun:test";
import { apiFamily, createRouter, errorBody, type RouteContext } from "../../../src/http/index.ts";

function context(path: string): RouteContext {
  // The router never answers later; these settle a promise as the server's context does.
  let settle: (response: Response) => void = () => {};
  return {
    url: new URL(`http://olla.test${path}`),
    server: { timeout: () => {} },
    record: {
      requestId: "test",
      method: "GET",
      path,
      search: "",
      clientIp: undefined,
      peer: undefined,
      started: 0,
      endedAt: 0,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      deferred: false,
    },
    finish: () => {},
    whenFinished: () => {},
    dispatched: () => {},
    later: () => new Promise<Response>((resolve) => (settle = resolve)),
    answer: (response) => settle(response),
    fail: (error) => settle(new Response(String(error), { status: 500 })),
  };
}

const router = createRouter([
  { methods: ["GET"], path: "/internal/health", handler: () => new Response("health") },
  { methods: ["POST"], path: "/internal/health", handler: () => new Response("post-health") },
  { methods: ["GET", "POST"], path: "/olla/", prefix: true, handler: () => new Response("olla") },
  { methods: ["POST"], path: "/olla/anthropic/", prefix: true, handler: () => new Response("anthropic") },
]);

async function call(method: string, path: string) {
  const response = await router(new Request(`http://olla.test${path}`, { method }), context(path));
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe("router", () => {
  test("exact paths by method", async () => {
    expect((await call("GET", "/internal/health")).text).toBe("health");
    expect((await call("POST", "/internal/health")).text).toBe("post-health");
    expect((await call("HEAD", "/internal/health")).status).toBe(200);
  });

  test("the longest prefix wins", async () => {
    expect((await call("POST", "/olla/anthropic/v1/messages")).text).toBe("anthropic");
    expect((await call("POST", "/olla/v1/chat/completions")).text).toBe("olla");
  });

  test("the longest prefix decides alone: its routes by method, 405 when none takes it", async () => {
    // /olla/ would take a GET, but /olla/anthropic/ is the longer prefix.
    const wrong = await call("GET", "/olla/anthropic/v1/models");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    const shared = createRouter([
      { methods: ["GET"], path: "/a/", prefix: true, handler: () => new Response("get") },
      { methods: ["POST"], path: "/a/", prefix: true, handler: () => new Response("post") },
      { methods: ["GET", "POST", "DELETE"], path: "/", prefix: true, handler: () => new Response("root") },
    ]);
    const on = async (method: string) => {
      const response = await shared(new Request("http://olla.test/a/b", { method }), context("/a/b"));
      return [response.status, await response.text(), response.headers.get("allow")];
    };
    expect(await on("GET")).toEqual([200, "get", null]);
    expect(await on("POST")).toEqual([200, "post", null]);
    const denied = await on("DELETE");
    expect([denied[0], denied[2]]).toEqual([405, "GET, POST, HEAD"]);
  });

  test("a wrong method gets 405 with Allow", async () => {
    const result = await call("DELETE", "/internal/health");
    expect(result.status).toBe(405);
    expect(result.headers.get("allow")).toBe("GET, POST, HEAD");
    expect(JSON.parse(result.text).error.type).toBe("invalid_request_error");
  });

  test("unknown paths get a JSON 404 in the path's API family", async () => {
    const openai = await call("GET", "/nothing");
    expect(openai.status).toBe(404);
    expect(JSON.parse(openai.text)).toEqual({
      error: { message: "no route for GET /nothing", type: "not_found_error", code: "not_found" },
    });
    const ollama = createRouter([]);
    const response = await ollama(new Request("http://olla.test/olla/api/tags"), context("/olla/api/tags"));
    expect(await response.json()).toEqual({ error: "no route for GET /olla/api/tags" });
  });
});

describe("error envelopes", () => {
  test.each([
    ["/olla/v1/chat/completions", "openai"],
    ["/olla/openai/v1/models", "openai"],
    ["/olla/api/chat", "ollama"],
    ["/olla/ollama/api/generate", "ollama"],
    ["/olla/anthropic/v1/messages", "anthropic"],
    // Anthropic's API forwarded to endpoints that speak it natively.
    ["/olla/v1/messages", "anthropic"],
    ["/olla/v1/messages/count_tokens", "anthropic"],
    ["/olla/proxy/v1/messages", "anthropic"],
    ["/olla/vllm/v1/messages/count_tokens", "anthropic"],
    ["/olla/ollama/v1/messages", "anthropic"],
    ["/olla/v1/messages/batches", "openai"],
    ["/olla/a/b/v1/messages", "openai"],
    ["/olla/api/v1/messages", "ollama"],
    ["/v1/messages", "openai"],
    ["/internal/status", "openai"],
  ] as const)("%s is %s", (path, family) => {
    expect(apiFamily(path)).toBe(family);
  });

  test("each family's shape", () => {
    expect(errorBody("openai", 502, "all endpoints failed", { code: "upstream_unavailable" })).toEqual({
      error: { message: "all endpoints failed", type: "upstream_error", code: "upstream_unavailable" },
    });
    expect(errorBody("ollama", 404, 'model "x" not found')).toEqual({ error: 'model "x" not found' });
    expect(errorBody("anthropic", 413, "too big")).toEqual({
      type: "error",
      error: { type: "request_too_large", message: "too big" },
    });
  });
});
