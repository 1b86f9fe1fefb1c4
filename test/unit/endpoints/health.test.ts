// Health probes against real fake servers, and the scheduler's timing with a manual clock.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  createHealthScheduler,
  type Endpoint,
  type ProbeResult,
  probeEndpoint,
  resolveEndpointUrl,
  retryAfterMs,
} from "../../../src/endpoints/index.ts";
import { createLogger } from "../../../src/log/index.ts";
import { testEndpoint } from "../../support/endpoints.ts";
import { type FakeUpstream, startFakeUpstream } from "../../support/index.ts";
import { manualClock } from "../../support/manual-clock.ts";

let ollama: FakeUpstream;
let vllm: FakeUpstream;
beforeAll(async () => {
  ollama = await startFakeUpstream({ kind: "ollama" });
  vllm = await startFakeUpstream({ kind: "vllm" });
});
afterAll(async () => {
  await ollama.stop();
  await vllm.stop();
});

describe("endpoint URLs", () => {
  test("health and model URLs default from the type's profile", () => {
    const endpoint = testEndpoint({ url: "http://10.0.0.1:11434", type: "ollama" });
    expect(endpoint.healthUrl.toString()).toBe("http://10.0.0.1:11434/");
    expect(endpoint.modelUrl.toString()).toBe("http://10.0.0.1:11434/api/tags");
    const lm = testEndpoint({ url: "http://10.0.0.1:1234", type: "lmstudio" });
    expect(lm.healthUrl.pathname).toBe("/v1/models");
    expect(lm.modelUrl.pathname).toBe("/api/v0/models");
    expect(testEndpoint({ type: "vllm" }).healthUrl.pathname).toBe("/health");
  });

  test("relative paths join under the endpoint's base path; absolute URLs are kept", () => {
    const base = new URL("http://10.0.0.1:8000/gpu0/");
    expect(resolveEndpointUrl(base, "/health").toString()).toBe("http://10.0.0.1:8000/gpu0/health");
    expect(resolveEndpointUrl(base, "v1/models?x=1").toString()).toBe(
      "http://10.0.0.1:8000/gpu0/v1/models?x=1",
    );
    expect(resolveEndpointUrl(base, "https://probe.example/ok").toString()).toBe("https://probe.example/ok");
  });
});

describe("probeEndpoint", () => {
  const probe = (endpoint: Endpoint) => probeEndpoint(endpoint);

  test("a 2xx answer is healthy, with its latency", async () => {
    const result = await probe(testEndpoint({ url: ollama.url, type: "ollama" }));
    expect(result).toMatchObject({ status: "healthy", httpStatus: 200 });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const sent = ollama.requests.at(-1)!;
    expect(sent.path).toBe("/");
    expect(sent.headers["user-agent"]).toStartWith("olla-HealthChecker/");
  });

  test("configured headers and auth go with the probe", async () => {
    await probe(
      testEndpoint({
        url: vllm.url,
        type: "vllm",
        auth: { type: "bearer", token: "t" },
        headers: { "X-A": "b" },
      }),
    );
    const sent = vllm.requests.at(-1)!;
    expect(sent.path).toBe("/health");
    expect(sent.headers.authorization).toBe("Bearer t");
    expect(sent.headers["x-a"]).toBe("b");
  });

  test.each([
    [500, "unhealthy"],
    [503, "unhealthy"],
    [401, "config_error"],
    [403, "config_error"],
    [429, "rate_limited"],
  ] as const)("HTTP %d is %s", async (status, expected) => {
    vllm.set({ fail: { status, retryAfter: 7 } });
    try {
      const result = await probe(testEndpoint({ url: vllm.url, type: "vllm" }));
      expect(result.status).toBe(expected);
      if (expected === "rate_limited") expect(result.retryAfterMs).toBe(7000);
    } finally {
      vllm.set({ fail: null });
    }
  });

  test("a refused connection is offline", async () => {
    const result = await probe(testEndpoint({ url: "http://127.0.0.1:9", type: "vllm" }));
    expect(result.status).toBe("offline");
    expect(result.error).toBeTruthy();
  });

  test("no answer within check_timeout is offline; a slow answer is busy", async () => {
    vllm.set({ healthDelayMs: 400 });
    try {
      const timedOut = await probe(testEndpoint({ url: vllm.url, type: "vllm", check_timeout: "200ms" }));
      expect(timedOut).toMatchObject({ status: "offline", error: "no answer within 200 ms" });
      const slow = await probe(testEndpoint({ url: vllm.url, type: "vllm", check_timeout: "700ms" }));
      expect(slow.status).toBe("busy");
    } finally {
      vllm.set({ healthDelayMs: 0 });
    }
  });

  test("Retry-After reads seconds or a date; 30 s otherwise", () => {
    expect(retryAfterMs("12", 0)).toBe(12_000);
    expect(retryAfterMs(new Date(61_000).toUTCString(), 1_000)).toBe(60_000);
    expect(retryAfterMs(null, 0)).toBe(30_000);
    expect(retryAfterMs("soon", 0)).toBe(30_000);
  });
});

describe("health scheduler", () => {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    format: "json",
    write: (line) => logs.push(JSON.parse(line)),
  });

  function scripted(results: ProbeResult["status"][]) {
    const clock = manualClock(0);
    const endpoint = testEndpoint(
      { name: "gpu", check_interval: "5s", check_timeout: "1s" },
      { status: "unknown" },
    );
    const probes: number[] = [];
    let index = 0;
    const recovered: string[] = [];
    const down: string[] = [];
    const scheduler = createHealthScheduler({
      endpoints: [endpoint],
      clock,
      logger,
      backoffCapMs: 60_000,
      // Backoff on its own here; the breaker has its own test.
      breakerThreshold: 0,
      probe: async () => {
        probes.push(clock.now());
        const status = results[Math.min(index++, results.length - 1)] as ProbeResult["status"];
        return { status, latencyMs: 1, ...(status === "rate_limited" ? { retryAfterMs: 45_000 } : {}) };
      },
      onRecovered: (e) => recovered.push(e.name),
      onDown: (e) => down.push(`${e.name}:${e.status}`),
    });
    return { clock, endpoint, probes, scheduler, recovered, down };
  }

  test("the first probe runs at start; then one per check_interval while healthy", async () => {
    const { clock, endpoint, probes, scheduler } = scripted(["healthy"]);
    await scheduler.start();
    expect(endpoint.status).toBe("healthy");
    await clock.advance(20_000);
    expect(probes).toEqual([0, 5000, 10_000, 15_000, 20_000]);
    scheduler.stop();
  });

  test("failures back off by doubling up to the cap, and reset on success", async () => {
    const failures = Array<ProbeResult["status"]>(8).fill("offline");
    const { clock, endpoint, probes, scheduler, recovered } = scripted([...failures, "healthy"]);
    await scheduler.start();
    await clock.advance(400_000);
    const gaps = probes.slice(1).map((at, i) => at - (probes[i] as number));
    expect(gaps.slice(0, 9)).toEqual([5000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000, 60_000, 5000]);
    expect(endpoint.status).toBe("healthy");
    expect(endpoint.consecutiveFailures).toBe(0);
    expect(recovered).toEqual(["gpu"]);
    scheduler.stop();
  });

  test("rate_limited waits for Retry-After", async () => {
    const { clock, probes, scheduler } = scripted(["rate_limited", "healthy"]);
    await scheduler.start();
    await clock.advance(50_000);
    expect(probes.slice(0, 2)).toEqual([0, 45_000]);
    scheduler.stop();
  });

  test("a passive failure takes the endpoint out at once and re-probes within a second", async () => {
    const { clock, endpoint, probes, scheduler } = scripted(["healthy"]);
    await scheduler.start();
    scheduler.reportFailure(endpoint, "ECONNREFUSED");
    expect(endpoint.status).toBe("offline");
    await clock.advance(1000);
    expect(probes).toEqual([0, 1000]);
    expect(endpoint.status).toBe("healthy");
    scheduler.stop();
  });

  test("leaving rotation is told once per transition (for sticky-session purges), not for a start down", async () => {
    const { clock, endpoint, scheduler, down } = scripted([
      "offline",
      "healthy",
      "unhealthy",
      "offline",
      "healthy",
      "rate_limited",
    ]);
    await scheduler.start();
    expect(down).toEqual([]);
    await clock.advance(60_000);
    expect(down).toEqual(["gpu:unhealthy", "gpu:rate_limited"]);
    scheduler.reportFailure(endpoint, "ECONNREFUSED");
    expect(down).toHaveLength(2);
    scheduler.stop();
    const passive = scripted(["healthy"]);
    await passive.scheduler.start();
    passive.scheduler.reportFailure(passive.endpoint, "ECONNREFUSED");
    expect(passive.down).toEqual(["gpu:offline"]);
    passive.scheduler.stop();
  });

  test("transitions are logged once each, not every failed probe", async () => {
    logs.length = 0;
    const { clock, scheduler } = scripted(["healthy", "offline", "offline", "offline", "healthy"]);
    await scheduler.start();
    await clock.advance(200_000);
    const transitions = logs.map((record) => `${record.msg}:${record.from}->${record.to}`);
    expect(transitions).toEqual([
      "endpoint is up:unknown->healthy",
      "endpoint is down:healthy->offline",
      "endpoint is up:offline->healthy",
    ]);
    scheduler.stop();
  });

  test("after 3 failed probes the breaker pauses probing for its cool-down, then one probe decides", async () => {
    const clock = manualClock(0);
    const endpoint = testEndpoint(
      { name: "dead", check_interval: "1s", check_timeout: "500ms" },
      { status: "unknown" },
    );
    const probes: number[] = [];
    let up = false;
    const scheduler = createHealthScheduler({
      endpoints: [endpoint],
      clock,
      logger,
      backoffCapMs: 2000,
      breakerThreshold: 3,
      breakerOpenMs: 30_000,
      probe: async () => {
        probes.push(clock.now());
        return up
          ? { status: "healthy", latencyMs: 1 }
          : { status: "offline", latencyMs: 1, error: "ECONNREFUSED" };
      },
    });
    await scheduler.start();
    await clock.advance(3000);
    // 0, 1 s, 3 s: three failures open the breaker.
    expect(probes).toEqual([0, 1000, 3000]);
    expect(scheduler.breakerOf(endpoint).state).toBe("open");
    await clock.advance(29_000);
    expect(probes).toHaveLength(3);
    up = true;
    await clock.advance(1000);
    expect(probes).toEqual([0, 1000, 3000, 33_000]);
    expect(scheduler.breakerOf(endpoint).state).toBe("closed");
    expect(endpoint.status).toBe("healthy");
    scheduler.stop();
  });

  test("401/403/429 do not trip the breaker", async () => {
    const { clock, scheduler, endpoint } = scripted(["config_error"]);
    await scheduler.start();
    await clock.advance(60_000);
    expect(scheduler.breakerOf(endpoint).state).toBe("closed");
    expect(endpoint.status).toBe("config_error");
    expect(scheduler.lastResult(endpoint)?.status).toBe("config_error");
    scheduler.stop();
  });

  test("no more than max_concurrent probes run at once", async () => {
    const endpoints = Array.from({ length: 6 }, (_, i) =>
      testEndpoint({ name: `n${i}`, url: `http://127.0.0.1:${10 + i}` }, { status: "unknown" }),
    );
    let running = 0;
    let peak = 0;
    const scheduler = createHealthScheduler({
      endpoints,
      clock: manualClock(),
      logger,
      maxConcurrent: 2,
      probe: async () => {
        running++;
        peak = Math.max(peak, running);
        await Bun.sleep(10);
        running--;
        return { status: "healthy", latencyMs: 10 };
      },
    });
    await scheduler.start();
    expect(peak).toBe(2);
    expect(endpoints.every((endpoint) => endpoint.status === "healthy")).toBe(true);
    scheduler.stop();
  });

  test("stop() cancels every timer", async () => {
    const { clock, probes, scheduler } = scripted(["healthy"]);
    await scheduler.start();
    scheduler.stop();
    await clock.advance(60_000);
    expect(probes).toEqual([0]);
  });
});
