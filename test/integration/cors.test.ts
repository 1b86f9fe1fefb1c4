// Browser access (server.cors) against the real server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let upstream: FakeUpstream;
let open: TestOlla;
let closed: TestOlla;
beforeAll(async () => {
  upstream = await startFakeUpstream({ kind: "ollama" });
  const endpoints = endpointsYaml([{ name: "local", url: upstream.url, type: "ollama" }]);
  open = await startTestOlla(
    `server:\n  cors:\n    enabled: true\n    allowed_origins: ["http://app.example"]\n    max_age: 600\n${endpoints}`,
  );
  closed = await startTestOlla(endpoints);
});
afterAll(async () => {
  await open.stop();
  await closed.stop();
  await upstream.stop();
});

const preflight = (base: string, origin: string) =>
  fetch(`${base}/olla/api/chat`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, authorization",
    },
  });

describe("CORS enabled", () => {
  test("a preflight from an allowed origin is answered by olla, not forwarded", async () => {
    upstream.clearRequests();
    const response = await preflight(open.url, "http://app.example");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST, OPTIONS");
    expect(response.headers.get("access-control-allow-headers")).toBe("content-type, authorization");
    expect(response.headers.get("access-control-max-age")).toBe("600");
    expect(upstream.requests.filter((request) => request.method === "OPTIONS")).toHaveLength(0);
  });

  test("a preflight from another origin is refused", async () => {
    const response = await preflight(open.url, "http://evil.example");
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("answers to an allowed origin expose the X-Olla-* headers", async () => {
    const response = await fetch(`${open.url}/olla/api/tags`, { headers: { origin: "http://app.example" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("http://app.example");
    expect(response.headers.get("access-control-expose-headers")).toContain("X-Olla-Endpoint");
    expect(response.headers.get("vary")).toContain("Origin");
  });
});

test("CORS disabled (the default): no CORS headers", async () => {
  const response = await fetch(`${closed.url}/internal/health`, {
    headers: { origin: "http://app.example" },
  });
  expect(response.headers.get("access-control-allow-origin")).toBeNull();
});
