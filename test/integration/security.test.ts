// Rate limits, trusted proxies, client API keys and the /internal/* address policy, through the real
// server and a fake endpoint; shared limits against a real redis-server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Anthropic } from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";
import { type RedisServer, startRedisServer } from "../support/redis-server.ts";

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream({ kind: "ollama", chunks: 3 });
});
afterAll(async () => {
  await upstream.stop();
});

const limitsYaml = (limits: Record<string, string | number | boolean>, extra = "") =>
  `server:\n  rate_limits:\n${Object.entries(limits)
    .map(([key, value]) => `    ${key}: ${value}\n`)
    .join("")}${extra}${endpointsYaml([{ name: "box", url: upstream.url, type: "ollama" }])}`;

const OFF = { global_requests_per_minute: 0, per_ip_requests_per_minute: 0, health_requests_per_minute: 0 };

const tags = (olla: TestOlla, headers: Record<string, string> = {}) =>
  fetch(`${olla.url}/olla/api/tags`, { headers });
const chat = (olla: TestOlla, headers: Record<string, string> = {}) =>
  fetch(`${olla.url}/olla/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
  });

describe("rate limits", () => {
  test("per client: the burst passes, then 429 with Retry-After and headers that follow the bucket", async () => {
    const olla = await startTestOlla(limitsYaml({ ...OFF, per_ip_requests_per_minute: 6, burst_size: 3 }));
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i++) {
        const response = await tags(olla);
        expect(response.status).toBe(200);
        expect(response.headers.get("x-ratelimit-limit")).toBe("6");
        remaining.push(response.headers.get("x-ratelimit-remaining")!);
        await response.arrayBuffer();
      }
      expect(remaining).toEqual(["2", "1", "0"]);
      const refused = await chat(olla);
      expect(refused.status).toBe(429);
      // 6 per minute: one token every 10 s.
      const retryAfter = Number(refused.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(9);
      expect(retryAfter).toBeLessThanOrEqual(10);
      // Unix seconds, as Olla sends it: within the next minute.
      const reset = Number(refused.headers.get("x-ratelimit-reset"));
      expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
      expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
      const body = (await refused.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("rate_limit_exceeded");
      // Ollama-style envelope on an /api/ path.
      const ollamaStyle = await tags(olla);
      expect(ollamaStyle.status).toBe(429);
      expect(typeof ((await ollamaStyle.json()) as { error: unknown }).error).toBe("string");
      // The metric counts every refusal, by the limit that refused.
      const metrics = await (await fetch(`${olla.url}/internal/metrics`)).text();
      expect(metrics).toContain('olla_rate_limited_total{scope="ip"} 2');
    } finally {
      await olla.stop();
    }
  });

  test("global: one bucket for every client", async () => {
    const olla = await startTestOlla(limitsYaml({ ...OFF, global_requests_per_minute: 2 }));
    try {
      expect((await tags(olla)).status).toBe(200);
      expect((await tags(olla)).status).toBe(200);
      const refused = await tags(olla);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: string }).error).toContain("olla as a whole");
    } finally {
      await olla.stop();
    }
  });

  test("health checks have their own bucket: monitors and users never starve each other", async () => {
    const olla = await startTestOlla(
      limitsYaml({ ...OFF, per_ip_requests_per_minute: 2, burst_size: 2, health_requests_per_minute: 3 }),
    );
    try {
      await tags(olla);
      await tags(olla);
      expect((await tags(olla)).status).toBe(429);
      // The proxy bucket is empty, health still answers (and /internal/* draws on the health bucket,
      // which also holds burst_size).
      expect((await fetch(`${olla.url}/internal/health`)).status).toBe(200);
      expect((await fetch(`${olla.url}/internal/status`)).status).toBe(200);
      const health = await fetch(`${olla.url}/internal/health`);
      expect(health.status).toBe(429);
      expect(health.headers.get("x-ratelimit-limit")).toBe("3");
      // ... and the proxy's refusals did not touch it, nor its refusals the proxy's global bucket.
      expect((await tags(olla)).status).toBe(429);
    } finally {
      await olla.stop();
    }
  });

  test("0 turns each limit off: no 429 and no rate-limit headers", async () => {
    const olla = await startTestOlla(limitsYaml(OFF));
    try {
      for (let i = 0; i < 60; i++) {
        const response = await tags(olla);
        expect(response.status).toBe(200);
        expect(response.headers.get("x-ratelimit-limit")).toBeNull();
        await response.arrayBuffer();
      }
    } finally {
      await olla.stop();
    }
  });

  test("X-Forwarded-For counts only from trusted proxies", async () => {
    const trusting = await startTestOlla(
      limitsYaml({
        ...OFF,
        per_ip_requests_per_minute: 1,
        burst_size: 1,
        trust_proxy_headers: true,
        trusted_proxy_cidrs: '["127.0.0.0/8"]',
      }),
    );
    const wary = await startTestOlla(
      limitsYaml({
        ...OFF,
        per_ip_requests_per_minute: 1,
        burst_size: 1,
        trust_proxy_headers: true,
        trusted_proxy_cidrs: '["10.0.0.0/8"]',
      }),
    );
    try {
      // Behind a trusted proxy (the test client is 127.0.0.1): each forwarded client has its own bucket.
      expect((await tags(trusting, { "x-forwarded-for": "203.0.113.1" })).status).toBe(200);
      expect((await tags(trusting, { "x-forwarded-for": "203.0.113.2" })).status).toBe(200);
      expect((await tags(trusting, { "x-forwarded-for": "203.0.113.1" })).status).toBe(429);
      // The right-most untrusted hop is the client; hops added by trusted proxies are skipped.
      expect((await tags(trusting, { "x-forwarded-for": "198.51.100.7, 127.0.0.5" })).status).toBe(200);
      expect((await tags(trusting, { "x-real-ip": "198.51.100.8" })).status).toBe(200);
      // A peer that is not a trusted proxy cannot pick its bucket by spoofing the header.
      expect((await tags(wary, { "x-forwarded-for": "203.0.113.1" })).status).toBe(200);
      expect((await tags(wary, { "x-forwarded-for": "203.0.113.99" })).status).toBe(429);
    } finally {
      await trusting.stop();
      await wary.stop();
    }
  });
});

describe("client API keys", () => {
  let olla: TestOlla;
  beforeAll(async () => {
    olla = await startTestOlla(limitsYaml(OFF, "  auth:\n    api_keys: [key-one, key-two-longer]\n"));
  });
  afterAll(async () => {
    await olla.stop();
  });

  test("no key or a wrong key: 401 in the client's format; the endpoint sees nothing", async () => {
    upstream.clearRequests();
    const missing = await chat(olla);
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    const body = (await missing.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("invalid_api_key");
    expect(body.error.message).toContain("x-api-key");
    const wrong = await tags(olla, { authorization: "Bearer key-onf" });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect(JSON.parse(text).error).toContain("not valid");
    expect(text).not.toContain("key-one");
    expect((await tags(olla, { "x-api-key": "key-one-and-more" })).status).toBe(401);
    expect(upstream.requests.length).toBe(0);
  });

  test("the official clients get through with their usual key headers; the key is not forwarded", async () => {
    upstream.clearRequests();
    const openai = new OpenAI({ baseURL: `${olla.url}/olla/v1`, apiKey: "key-two-longer", maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: "llama3.2:latest",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(completion.choices[0]!.message.content).toBeTruthy();
    const ollama = new Ollama({ host: `${olla.url}/olla`, headers: { "x-api-key": "key-one" } });
    expect((await ollama.list()).models.length).toBeGreaterThan(0);
    const forwarded = upstream.requests.filter((request) => request.path === "/v1/chat/completions");
    expect(forwarded.length).toBe(1);
    expect(forwarded[0]!.headers.authorization).toBeUndefined();
    expect(forwarded[0]!.headers["x-api-key"]).toBeUndefined();
  });

  test("Anthropic clients: x-api-key gets through; no key is 401 in Anthropic's error envelope", async () => {
    const refused = await fetch(`${olla.url}/olla/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    const anthropic = new Anthropic({
      baseURL: `${olla.url}/olla/anthropic`,
      apiKey: "key-one",
      maxRetries: 0,
    });
    const counted = await anthropic.messages.countTokens({
      model: "llama3.2:latest",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);
  });

  test("/internal/health stays open; keys never reach the log", async () => {
    expect((await fetch(`${olla.url}/internal/health`)).status).toBe(200);
    await tags(olla, { authorization: "Bearer key-one" });
    expect(JSON.stringify(olla.logs)).not.toContain("key-one");
  });
});

test("/internal/* can be limited to address ranges; /internal/health stays open", async () => {
  const olla = await startTestOlla(
    `${limitsYaml(OFF)}\ndashboard:\n  gate_internal_api: true\n  access_policy:\n    allowed_cidrs: ["10.0.0.0/8"]\n`,
  );
  try {
    const status = await fetch(`${olla.url}/internal/status`);
    expect(status.status).toBe(403);
    expect(((await status.json()) as { error: { message: string } }).error.message).toContain("127.0.0.1");
    expect((await fetch(`${olla.url}/internal/metrics`)).status).toBe(403);
    expect((await fetch(`${olla.url}/internal/health`)).status).toBe(200);
    expect((await tags(olla)).status).toBe(200);
  } finally {
    await olla.stop();
  }
});

describe("limits shared through Redis", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    await redis.stop();
  });

  test("two replicas enforce one limit; with Redis gone each keeps limiting locally and says so", async () => {
    const yaml = limitsYaml({ ...OFF, per_ip_requests_per_minute: 4, burst_size: 4, store: redis.url });
    const first = await startTestOlla(yaml);
    const second = await startTestOlla(yaml);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const response = await tags(i % 2 === 0 ? first : second);
        statuses.push(response.status);
        await response.arrayBuffer();
      }
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      const shared = (await (await fetch(`${first.url}/internal/status`)).json()) as {
        rate_limits: { store: string; healthy: boolean };
      };
      expect(shared.rate_limits).toMatchObject({ store: "redis", healthy: true });

      await redis.stop();
      // Still answering, now from local buckets (a fresh bucket on each replica).
      const during = await tags(first);
      expect(during.status).toBe(200);
      const local = (await (await fetch(`${first.url}/internal/status`)).json()) as {
        rate_limits: { store: string; healthy: boolean; last_error: string | null };
      };
      expect(local.rate_limits.healthy).toBe(false);
      expect(local.rate_limits.store).toContain("redis unreachable");
      expect(first.logs.some((line) => line.level === "warn" && line.component === "rate_limits")).toBe(true);
    } finally {
      await first.stop();
      await second.stop();
      await redis.start();
    }
  });
});
