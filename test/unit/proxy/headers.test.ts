import { describe, expect, test } from "bun:test";
import {
  type ForwardContext,
  clientResponseHeaders,
  upstreamRequestHeaders,
} from "../../../src/proxy/headers.ts";
import { testEndpoint } from "../../support/endpoints.ts";

/** The pairs an endpoint gets, checked for what a Headers would hide (duplicate or upper-case names,
 * which the upstream clients rely on not getting), then read through a Headers. */
function forwarded(incoming: Headers, context: ForwardContext): Headers {
  // As the proxy gives them: the client's Headers as pairs.
  const pairs = upstreamRequestHeaders([...incoming], context);
  const names = pairs.map(([name]) => name);
  expect(new Set(names).size).toBe(names.length);
  for (const name of names) expect(name).toBe(name.toLowerCase());
  return new Headers(pairs);
}

const url = new URL("http://olla.local:40114/olla/v1/chat/completions");

describe("to the endpoint", () => {
  const incoming = new Headers({
    host: "olla.local:40114",
    connection: "keep-alive, x-secret-hop",
    "x-secret-hop": "1",
    "keep-alive": "timeout=5",
    "transfer-encoding": "chunked",
    "content-length": "12",
    "proxy-authorization": "Basic abc",
    te: "trailers",
    upgrade: "h2c",
    origin: "http://evil.example",
    cookie: "session=1",
    authorization: "Bearer client-key",
    "x-api-key": "client-key",
    "content-type": "application/json",
    "x-forwarded-for": "203.0.113.7",
    via: "1.1 nginx",
    "user-agent": "OpenAI/JS 7",
  });

  test("hop-by-hop, Host, Origin and cookies are dropped; forwarding headers added", () => {
    const endpoint = testEndpoint({});
    const out = forwarded(incoming, { endpoint, requestId: "rid-1", peer: "10.1.2.3", client: { url } });
    for (const name of [
      "host",
      "connection",
      "x-secret-hop",
      "keep-alive",
      "transfer-encoding",
      "content-length",
      "proxy-authorization",
      "te",
      "upgrade",
      "origin",
      "cookie",
    ]) {
      expect(out.has(name)).toBe(false);
    }
    expect(out.get("x-forwarded-for")).toBe("203.0.113.7, 10.1.2.3");
    expect(out.get("x-forwarded-proto")).toBe("http");
    expect(out.get("x-forwarded-host")).toBe("olla.local:40114");
    expect(out.get("via")).toMatch(/^1\.1 nginx, 1\.1 olla\//);
    expect(out.get("x-request-id")).toBe("rid-1");
    expect(out.get("content-type")).toBe("application/json");
    expect(out.get("user-agent")).toBe("OpenAI/JS 7");
  });

  test("a client's X-Request-ID is kept, not sent twice", () => {
    const withId = new Headers({ "x-request-id": "client-trace" });
    const out = forwarded(withId, {
      endpoint: testEndpoint({}),
      requestId: "rid-2",
      peer: "p",
      client: { url },
    });
    expect(out.get("x-request-id")).toBe("client-trace");
  });

  test("without endpoint auth the client's credentials pass through", () => {
    const out = forwarded(incoming, {
      endpoint: testEndpoint({}),
      requestId: "r",
      peer: "1.1.1.1",
      client: { url },
    });
    expect(out.get("authorization")).toBe("Bearer client-key");
    expect(out.get("x-api-key")).toBe("client-key");
  });

  test("with endpoint auth the client's credentials are replaced by the endpoint's", () => {
    const endpoint = testEndpoint({
      auth: { type: "bearer", token: "endpoint-token" },
      headers: { "X-Team": "ml" },
    });
    const out = forwarded(incoming, { endpoint, requestId: "r", peer: "1.1.1.1", client: { url } });
    expect(out.get("authorization")).toBe("Bearer endpoint-token");
    expect(out.has("x-api-key")).toBe(false);
    expect(out.get("x-team")).toBe("ml");
  });

  test("api_key and basic auth produce their headers", () => {
    const apiKey = testEndpoint({ auth: { type: "api_key", key: "k1", header: "X-Custom-Key" } });
    expect(
      forwarded(new Headers(), { endpoint: apiKey, requestId: "r", peer: "p", client: { url } }).get(
        "x-custom-key",
      ),
    ).toBe("k1");
    const basic = testEndpoint({ auth: { type: "basic", username: "u", password: "p" } });
    expect(
      forwarded(new Headers(), { endpoint: basic, requestId: "r", peer: "p", client: { url } }).get(
        "authorization",
      ),
    ).toBe(`Basic ${btoa("u:p")}`);
  });
});

describe("back to the client", () => {
  test("secrets, cookies and upstream X-Olla-* are dropped; olla's headers added", () => {
    const endpoint = testEndpoint({ name: "gpu-1", type: "ollama", headers: { "X-Team": "ml" } });
    // As the endpoint sent them: any case, repeated names, Connection naming another header.
    const upstream: [string, string][] = [
      ["Content-Type", "text/event-stream"],
      ["Set-Cookie", "a=b"],
      ["Set-Cookie", "c=d"],
      ["authorization", "x"],
      ["X-Api-Key", "y"],
      ["X-Olla-Endpoint", "spoofed"],
      ["x-team", "echoed"],
      ["Content-Length", "10"],
      ["Connection", "close, X-Hop"],
      ["X-Hop", "1"],
      ["Via", "1.1 upstream-proxy"],
      ["via", "1.0 edge"],
      ["X-Custom", "kept"],
      ["Vary", "a"],
      ["Vary", "b"],
    ];
    const out = clientResponseHeaders(upstream, {
      endpoint,
      model: "Llama3.2:3B",
      responseTimeMs: 12.4,
    });
    expect(out.contentType).toBe("text/event-stream");
    expect(out.contentLength).toBe(10);
    const headers = new Response(null, { headers: out.headers }).headers;
    for (const name of [
      "set-cookie",
      "authorization",
      "x-api-key",
      "x-team",
      "content-length",
      "connection",
      "x-hop",
    ]) {
      expect(headers.has(name)).toBe(false);
    }
    expect(headers.get("x-olla-endpoint")).toBe("gpu-1");
    expect(headers.get("x-olla-backend-type")).toBe("ollama");
    expect(headers.get("x-olla-model")).toBe("Llama3.2:3B");
    expect(headers.get("x-olla-response-time")).toBe("12ms");
    expect(headers.get("via")).toMatch(/^1\.1 olla\/.*, 1\.1 upstream-proxy, 1\.0 edge$/);
    expect(headers.get("x-custom")).toBe("kept");
    expect(headers.get("content-type")).toBe("text/event-stream");
    expect(headers.get("vary")).toBe("a, b");
  });

  test("no Content-Length: NaN, no Content-Type: null, no model: no X-Olla-Model", () => {
    const out = clientResponseHeaders([["x-a", "1"]], {
      endpoint: testEndpoint({}),
      model: undefined,
      responseTimeMs: 0,
    });
    expect(out.contentLength).toBeNaN();
    expect(out.contentType).toBeNull();
    expect(out.headers.has("x-olla-model")).toBe(false);
    expect(out.headers.get("x-a")).toBe("1");
  });

  test("answers from one endpoint share nothing: one answer's headers never reach the next", () => {
    const endpoint = testEndpoint({ name: "gpu-1" });
    const first = clientResponseHeaders(
      [
        ["x-first", "1"],
        ["via", "1.0 edge"],
      ],
      { endpoint, model: "a", responseTimeMs: 5 },
    );
    first.headers.set("x-olla-request-id", "req-1");
    const second = clientResponseHeaders([], { endpoint, model: undefined, responseTimeMs: 7 });
    expect(second.headers.get("x-olla-endpoint")).toBe("gpu-1");
    expect(second.headers.get("via")).toMatch(/^1\.1 olla\/[^,]*$/);
    expect(second.headers.get("x-olla-response-time")).toBe("7ms");
    for (const name of ["x-first", "x-olla-model", "x-olla-request-id"])
      expect(second.headers.has(name)).toBe(false);
  });
});
