// The status API against a real fleet: shapes, counters, probe details, masking.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let ollama: FakeUpstream;
let vllm: FakeUpstream;
let olla: TestOlla;
/** Bytes of the answers the three requests below got. */
let answered = 0;

beforeAll(async () => {
  ollama = await startFakeUpstream({ kind: "ollama" });
  vllm = await startFakeUpstream({ kind: "vllm" });
  olla = await startTestOlla(
    endpointsYaml([
      { name: "ollama-1", url: `${ollama.url}/?api_key=s3cret`, type: "ollama", priority: 100 },
      { name: "vllm-1", url: vllm.url, type: "vllm", priority: 50 },
      { name: "gone", url: "http://127.0.0.1:9", type: "llamacpp", priority: 70 },
    ]),
  );
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${olla.url}/olla/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
    });
    answered += (await response.arrayBuffer()).byteLength;
  }
});
afterAll(async () => {
  await olla.stop();
  await ollama.stop();
  await vllm.stop();
});

const get = async (path: string) => {
  const response = await fetch(`${olla.url}${path}`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("application/json");
  return (await response.json()) as Record<string, any>;
};

describe("/internal/status", () => {
  test("fleet totals, endpoints by priority, proxy counters", async () => {
    const status = await get("/internal/status");
    expect(status).toMatchObject({ total_endpoints: 3, healthy_endpoints: 2, routable_endpoints: 2 });
    expect(status.endpoints.map((endpoint: { name: string }) => endpoint.name)).toEqual([
      "ollama-1",
      "gone",
      "vllm-1",
    ]);
    expect(status.proxy).toMatchObject({
      engine: "olla",
      load_balancer: "priority",
      total_requests: 3,
      successful_requests: 3,
      failed_requests: 0,
    });
    expect(status.proxy.avg_latency_ms).toBeGreaterThan(0);
    const [first, gone] = status.endpoints;
    expect(first).toMatchObject({
      name: "ollama-1",
      type: "ollama",
      status: "healthy",
      priority: 100,
      weight: 1,
      requests: 3,
      success_rate: 100,
      in_flight: 0,
      consecutive_failures: 0,
      issues: [],
    });
    expect(first.last_latency_ms).toBeGreaterThanOrEqual(0);
    expect(first.id).toMatch(/^[0-9a-z]+$/);
    expect(gone).toMatchObject({ status: "offline", issues: ["unavailable"], success_rate: null });
    expect(status.system).toMatchObject({ status: "degraded", endpoints_up: "2/3", total_requests: 3 });
  });

  test("Olla's fields beside olla's own: proxy, security, endpoints[], system", async () => {
    const status = await get("/internal/status");
    expect(status.proxy).toMatchObject({
      balancer: "priority",
      profile: "streaming",
      load_balancer: "priority",
    });
    expect(status.security).toEqual({
      status: "normal",
      blocked_ips: 0,
      violations: { rate_limits: 0, size_limits: 0 },
    });
    const byName = Object.fromEntries(
      status.endpoints.map((endpoint: { name: string }) => [endpoint.name, endpoint]),
    );
    const served = byName["ollama-1"];
    expect(served.avg_latency).toMatch(/^(\d+ms|\d+\.\ds)$/);
    expect(served.min_latency_ms).toBeGreaterThan(0);
    expect(served.max_latency_ms).toBeGreaterThanOrEqual(served.min_latency_ms);
    expect(served.avg_latency_ms).toBeGreaterThanOrEqual(served.min_latency_ms);
    expect(served.avg_latency_ms).toBeLessThanOrEqual(served.max_latency_ms);
    // Every byte the clients got, counted once: below a KiB it is exact.
    expect(answered).toBeGreaterThan(0);
    expect(served.traffic).toBe(answered < 1024 ? `${answered} B` : `${(answered / 1024).toFixed(2)} KB`);
    expect(served.connections).toBe(0);
    expect(served.last_check).toMatch(/^\d+s ago$/);
    expect(Math.abs(Date.parse(served.health_check_at) - Date.now())).toBeLessThan(60_000);
    expect(served.next_check).toMatch(/^(in \d+s|now)$/);
    expect(Date.parse(served.next_check_at)).toBeGreaterThan(Date.now() - 5_000);
    expect(served.models.count).toBe(2);
    expect(Math.abs(Date.parse(served.models.last_updated) - Date.now())).toBeLessThan(60_000);
    // olla's own types where the names are the same.
    expect(served.success_rate).toBe(100);
    expect(served.issues).toEqual([]);

    const idle = byName["vllm-1"];
    expect(idle).toMatchObject({
      avg_latency: "0ms",
      min_latency_ms: null,
      max_latency_ms: null,
      traffic: "0 B",
      connections: 0,
      models: { count: 1 },
    });
    expect(byName.gone.models).toEqual({ last_updated: null, count: 0 });

    expect(status.system).toMatchObject({
      success_rate: "100%",
      total_traffic: served.traffic,
      security_violations: 0,
      has_traffic: true,
    });
    expect(status.system.avg_latency).toMatch(/^(\d+ms|\d+\.\ds)$/);
    expect(status.system.uptime).toMatch(/^\d+[sm]$|^\d+h \d+m$|^\d+d \d+h$/);
    expect(typeof status.system.uptime_seconds).toBe("number");
  });

  test("query secrets in endpoint URLs are masked", async () => {
    const text = await (await fetch(`${olla.url}/internal/status`)).text();
    expect(text).not.toContain("s3cret");
    expect(text).toContain("api_key=****");
  });
});

describe("/internal/status/endpoints", () => {
  test("probe results, schedule and breakers per endpoint", async () => {
    const detail = await get("/internal/status/endpoints");
    expect(detail).toMatchObject({ total_count: 3, healthy_count: 2, routable_count: 2 });
    const byName = Object.fromEntries(
      detail.endpoints.map((endpoint: { name: string }) => [endpoint.name, endpoint]),
    );
    const served = byName["ollama-1"];
    // Olla's fields beside olla's own.
    expect(served.active_connections).toBe(0);
    expect(served.min_latency_ms).toBeGreaterThan(0);
    expect(served.max_latency_ms).toBeGreaterThanOrEqual(served.min_latency_ms);
    expect(served.health_check).toMatch(/^\d+s ago$/);
    expect(served.health_check_at).toBe(served.last_check_at);
    expect(served.response_time).toBe(`${Math.round(served.last_check.latency_ms)}ms`);
    expect(served.last_model_sync).toMatch(/^\d+s ago$/);
    expect(Date.parse(served.last_model_sync_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(byName["vllm-1"]).toMatchObject({
      min_latency_ms: null,
      max_latency_ms: null,
      active_connections: 0,
    });
    expect(served.success_rate).toBe(100);
    expect(served.issues).toEqual([]);
    expect(byName["ollama-1"]).toMatchObject({
      health_check_url: `${ollama.url}/`,
      last_check: { status: "healthy", http_status: 200, error: null },
      backoff_multiplier: 1,
      health_breaker: { state: "closed", failures: 0 },
      proxy_breaker: { state: "closed", failures: 0 },
      request_count: 3,
    });
    expect(Date.parse(byName["ollama-1"].next_check_at)).toBeGreaterThan(Date.now() - 1000);
    // Models were discovered before olla started listening.
    expect(byName["ollama-1"]).toMatchObject({
      model_count: 2,
      models: ["llama3.2:latest", "nomic-embed-text:latest"],
      model_discovery_error: null,
    });
    expect(byName["vllm-1"].models).toEqual(["meta-llama/Llama-3.2-3B-Instruct"]);
    expect(byName.gone.model_count).toBe(0);
    expect(byName.gone).toMatchObject({
      status: "offline",
      last_check: { status: "offline", http_status: null },
      health_breaker: { failures: expect.any(Number) },
    });
    expect(byName.gone.backoff_multiplier).toBeGreaterThan(1);
  });

  test("a node that goes down shows up at once after its probe", async () => {
    await vllm.stop();
    try {
      await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "vllm-1")!);
      const status = await get("/internal/status");
      expect(status.routable_endpoints).toBe(1);
      expect(status.system.status).toBe("critical");
    } finally {
      await vllm.restart();
    }
  });

  test("a node that comes back has its models discovered again at once", async () => {
    const endpoint = olla.app.endpoints.find((candidate) => candidate.name === "vllm-1")!;
    await vllm.stop();
    await olla.app.health.checkNow(endpoint);
    vllm.set({ models: ["Qwen/Qwen3-8B"] });
    await vllm.restart();
    await olla.app.health.checkNow(endpoint);
    for (let i = 0; i < 100; i++) {
      const detail = await get("/internal/status/endpoints");
      const entry = detail.endpoints.find((candidate: { name: string }) => candidate.name === "vllm-1");
      if (entry.models[0] === "Qwen/Qwen3-8B") return;
      await Bun.sleep(10);
    }
    throw new Error("models were not re-discovered after recovery");
  });
});

describe("security in /internal/status: 429s and 413s counted, distinct IPs", () => {
  test("a 413 and a 429 show up; more than 10 rate-limited IPs make it elevated", async () => {
    // One proxied request a minute per client with a burst of 1 (olla's own routes unlimited);
    // X-Forwarded-For from 127.0.0.1 is trusted.
    const limited = await startTestOlla(
      "server:\n  rate_limits:\n    global_requests_per_minute: 0\n    per_ip_requests_per_minute: 1\n" +
        "    health_requests_per_minute: 0\n" +
        "    burst_size: 1\n    trust_proxy_headers: true\n  request_limits:\n    max_body_size: 1KB\n" +
        endpointsYaml([{ name: "ollama-1", url: ollama.url, type: "ollama", priority: 100 }]),
    );
    try {
      const send = async (ip: string, body: string) => {
        const response = await fetch(`${limited.url}/olla/api/generate`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-forwarded-for": ip },
          body,
        });
        await response.arrayBuffer();
        return response.status;
      };
      const small = JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false });
      const big = JSON.stringify({ model: "llama3.2:latest", prompt: "x".repeat(4096), stream: false });
      expect(await send("203.0.113.1", big)).toBe(413);
      expect(await send("203.0.113.1", small)).toBe(429);
      const status = async () => {
        const response = await fetch(`${limited.url}/internal/status`);
        expect(response.status).toBe(200);
        return (await response.json()) as Record<string, any>;
      };
      const first = await status();
      expect(first.security).toEqual({
        status: "normal",
        blocked_ips: 1,
        violations: { rate_limits: 1, size_limits: 1 },
      });
      expect(first.system.security_violations).toBe(2);
      // Nothing got through: no traffic yet.
      expect(first.system).toMatchObject({ has_traffic: false, success_rate: "N/A", total_traffic: "0 B" });

      for (let i = 2; i <= 11; i++) {
        expect(await send(`203.0.113.${i}`, small)).toBe(200);
        expect(await send(`203.0.113.${i}`, small)).toBe(429);
      }
      // The same IP refused again is still one IP.
      expect(await send("203.0.113.1", small)).toBe(429);
      const after = await status();
      expect(after.security).toEqual({
        status: "elevated",
        blocked_ips: 11,
        violations: { rate_limits: 12, size_limits: 1 },
      });
      expect(after.system).toMatchObject({
        security_violations: 13,
        has_traffic: true,
        success_rate: "100%",
      });
      expect(after.endpoints[0].traffic).not.toBe("0 B");
    } finally {
      await limited.stop();
    }
  });
});

describe("conditional GET and gzip, as in Olla", () => {
  test.each(["/internal/status", "/internal/status/endpoints", "/internal/status/models"])(
    "%s: a weak ETag, 304 for it, gzip when asked",
    async (path) => {
      // A probe landing between two requests may move the ETag (a failure count): a few tries.
      let notModified: Response | undefined;
      for (let tries = 0; tries < 3 && notModified?.status !== 304; tries++) {
        const first = await fetch(`${olla.url}${path}`);
        const etag = first.headers.get("etag")!;
        expect(etag).toMatch(/^W\/"[0-9a-z]+"$/);
        expect(first.headers.get("cache-control")).toBe("private, no-cache");
        expect(first.headers.get("vary")).toBe("Accept-Encoding");
        await first.arrayBuffer();
        notModified = await fetch(`${olla.url}${path}`, { headers: { "if-none-match": `"x", ${etag}` } });
        if (notModified.status === 304) {
          expect(notModified.headers.get("etag")).toBe(etag);
          expect(await notModified.text()).toBe("");
        } else await notModified.arrayBuffer();
      }
      expect(notModified!.status).toBe(304);
      const other = await fetch(`${olla.url}${path}`, { headers: { "if-none-match": 'W/"stale"' } });
      expect(other.status).toBe(200);
      await other.arrayBuffer();
      // Raw bytes (fetch would inflate them): gzip's magic number, and the same JSON inside.
      const zipped = await fetch(`${olla.url}${path}`, {
        headers: { "accept-encoding": "gzip" },
        decompress: false,
      } as RequestInit);
      expect(zipped.headers.get("content-encoding")).toBe("gzip");
      const bytes = new Uint8Array(await zipped.arrayBuffer());
      expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
      expect(JSON.parse(new TextDecoder().decode(Bun.gunzipSync(bytes)))).toHaveProperty("timestamp");
      const refused = await fetch(`${olla.url}${path}`, {
        headers: { "accept-encoding": "gzip;q=0" },
        decompress: false,
      } as RequestInit);
      expect(refused.headers.get("content-encoding")).toBeNull();
      await refused.arrayBuffer();
    },
  );
});

test("/internal/process: memory, event-loop lag, runtime, upstream pool", async () => {
  const info = await get("/internal/process");
  expect(info.memory.rss_bytes).toBeGreaterThan(10_000_000);
  expect(typeof info.event_loop_lag_ms).toBe("number");
  expect(info.runtime.bun).toBe(process.versions.bun);
  expect(info.upstream_pool).toMatchObject({ open: expect.any(Number), idle: expect.any(Number) });
  expect(info.open_requests).toBeGreaterThanOrEqual(1);
});
