// Shared buckets against a real redis-server: the same arithmetic as the local store, one limit across
// replicas, atomic under concurrency, expiring keys, and local decisions while Redis is dead or frozen.

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import {
  type BucketRule,
  bucketRule,
  createRateLimiter,
  createRedisBuckets,
  createSharedRateLimiter,
  type RedisBuckets,
  type RedisBucketsOptions,
} from "../../../src/limits/index.ts";
import { freePort, startRedisServer, type RedisServer } from "../../support/redis-server.ts";
import { until, withTimeout } from "../../support/with-timeout.ts";
import { bucketContract, type ContractStore } from "./bucket-contract.ts";

const rule = (perMinute: number, burst: number) => bucketRule(perMinute, burst) as BucketRule;

let redis: RedisServer;
let admin: RedisClient;
let prefixes = 0;
const opened: RedisBuckets[] = [];

beforeAll(async () => {
  redis = await startRedisServer();
  admin = new RedisClient(redis.url);
  await admin.connect();
});

afterAll(async () => {
  admin?.close();
  await redis?.stop();
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

/** A store on its own key prefix, connected. Generous timeout: these tests are about Redis answers. */
async function open(options: Partial<RedisBucketsOptions> = {}, url = redis.url): Promise<RedisBuckets> {
  const store = createRedisBuckets({ url, keyPrefix: `t${++prefixes}:`, timeoutMs: 2_000, ...options });
  opened.push(store);
  await withTimeout(store.ready(), 5_000, "first Redis connection");
  return store;
}

function recorder() {
  const lines: { level: "info" | "warn"; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    logger: {
      info: (message: string, fields?: Record<string, unknown>) =>
        lines.push({ level: "info", message, fields }),
      warn: (message: string, fields?: Record<string, unknown>) =>
        lines.push({ level: "warn", message, fields }),
    },
    count: (level: "info" | "warn") => lines.filter((line) => line.level === level).length,
  };
}

describe("Redis buckets: the bucket contract (caller's clock)", () => {
  bucketContract(async (): Promise<ContractStore> => {
    const store = await open({ clock: "caller" });
    // Every answer must come from Redis, not from the fallback.
    const viaRedis = <T>(result: T) => {
      expect(store.status().store).toBe("redis");
      return result;
    };
    return {
      takeAll: async (requests, now) => viaRedis(await store.takeAll(requests, now)),
      take: async (key, bucketRule, now) => viaRedis(await store.take(key, bucketRule, now)),
    };
  });
});

describe("Redis buckets", () => {
  test("a bucket is one key holding its 'full at' time, expiring when the bucket is full", async () => {
    const store = await open({ clock: "caller", keyPrefix: "ttl:" });
    for (let i = 0; i < 3; i++) await store.take("k", rule(60, 3), 0);
    expect(await admin.get("ttl:k")).toBe("3000");
    const ttl = Number(await admin.send("PTTL", ["ttl:k"]));
    expect(ttl).toBeGreaterThan(2_500);
    expect(ttl).toBeLessThanOrEqual(3_000);
    // A token every millisecond: full again (and gone) almost at once.
    await store.take("fast", rule(60_000, 5), 0);
    await Bun.sleep(30);
    expect(await admin.send("EXISTS", ["ttl:fast"])).toBe(0);
  });

  test("the Redis clock: replicas whose clocks disagree still share one bucket", async () => {
    const a = await open({ keyPrefix: "skew:" });
    const b = await open({ keyPrefix: "skew:" });
    const slow = rule(1, 5);
    let allowed = 0;
    for (let i = 0; i < 10; i++) {
      // b's clock is years ahead: with the caller's clock it would find the bucket full every time.
      const result = await (i % 2 ? b.take("k", slow, 4e12) : a.take("k", slow, 0));
      if (result.allowed) allowed++;
    }
    expect(allowed).toBe(5);
  });

  test("atomic: 200 concurrent takes from two replicas against a bucket of 50 let exactly 50 through", async () => {
    const a = await open({ keyPrefix: "race:" });
    const b = await open({ keyPrefix: "race:" });
    const fifty = rule(1, 50);
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).take("k", fifty, Date.now())),
    );
    expect(results.filter((result) => result.allowed).length).toBe(50);
    expect([a.status().store, b.status().store]).toEqual(["redis", "redis"]);
  });

  test("two limiter replicas enforce one combined per-client limit, global and client buckets together", async () => {
    const options = { globalPerMinute: 1_000, perIpPerMinute: 60, healthPerMinute: 0, burst: 5 };
    const replicaA = createSharedRateLimiter(options, await open({ keyPrefix: "fleet:" }));
    const replicaB = createSharedRateLimiter(options, await open({ keyPrefix: "fleet:" }));
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await (i % 2 ? replicaB : replicaA).check("proxy", "1.2.3.4"));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, true, true, true, false]);
    expect(decisions[5]?.headers).toMatchObject({ "X-RateLimit-Limit": "60", "Retry-After": "1" });
    expect(decisions[5]?.deniedBy).toBe("ip");
    expect((await replicaB.check("proxy", "5.6.7.8")).allowed).toBe(true);
    expect(replicaA.status()).toEqual({ store: "redis", healthy: true, lastError: undefined });
    // The refused request took nothing from the global bucket: 6 allowed so far, 6 tokens owed (×60 ms).
    const [seconds, micros] = (await admin.send("TIME", [])) as [string, string];
    const globalDebt = Number(await admin.get("fleet:g")) - (Number(seconds) * 1000 + Number(micros) / 1000);
    expect(globalDebt).toBeGreaterThan(6 * 60 - 100); // a 7th token would make it 420 minus the elapsed ms
    expect(globalDebt).toBeLessThanOrEqual(6 * 60 + 1);
  });

  test("a flushed script cache (Redis restarted, SCRIPT FLUSH) is refilled through EVAL", async () => {
    const store = await open({ keyPrefix: "flush:" });
    await admin.send("SCRIPT", ["FLUSH"]);
    expect((await store.take("k", rule(60, 2), Date.now())).allowed).toBe(true);
    expect(store.status().store).toBe("redis");
    expect(await admin.send("EXISTS", ["flush:k"])).toBe(1);
  });

  test("decides locally, and says so once, when Redis is unreachable from the start", async () => {
    const port = await freePort();
    const log = recorder();
    const store = createRedisBuckets({
      url: `redis://:s3cret@127.0.0.1:${port}`,
      logger: log.logger,
      retryMinMs: 20,
      retryMaxMs: 40,
    });
    opened.push(store);
    await withTimeout(store.ready(), 2_000, "first attempt");
    const status = store.status();
    expect([status.store, status.healthy, typeof status.lastError]).toEqual(["local", false, "string"]);
    const tight = rule(60, 2);
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push((await store.take("k", tight, 0)).allowed);
    expect(verdicts).toEqual([true, true, false]);
    await Bun.sleep(200); // several retries fail meanwhile
    expect(log.count("warn")).toBe(1);
    expect(JSON.stringify(log.lines)).not.toContain("s3cret");
    expect(log.lines[0]?.fields?.redis).toBe(`redis://127.0.0.1:${port}`);
  });

  test("a malformed URL is a configuration error at creation, not an outage, and hides credentials", () => {
    for (const url of ["http://user:s3cret@127.0.0.1:6379", "redis://:s3cret@127.0.0.1:port"]) {
      let message = "";
      try {
        createRedisBuckets({ url }).close();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe("");
      expect(message).not.toContain("s3cret");
    }
  });

  test("never waits on a server that accepts connections but never answers", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const store = createRedisBuckets({ url: `redis://127.0.0.1:${silent.port}`, connectTimeoutMs: 200 });
      opened.push(store);
      await withTimeout(store.ready(), 2_000, "first attempt");
      const started = performance.now();
      expect((await store.take("k", rule(60, 1), 0)).allowed).toBe(true);
      expect(performance.now() - started).toBeLessThan(50);
      expect(store.status().store).toBe("local");
    } finally {
      silent.stop(true);
    }
  });
});

describe("Redis buckets through an outage", () => {
  let flaky: RedisServer;
  beforeAll(async () => {
    flaky = await startRedisServer();
  });
  afterAll(async () => {
    await flaky?.stop();
  });

  test("killed: local buckets answer and status says so; restarted: shared again", async () => {
    const log = recorder();
    const store = await open(
      { logger: log.logger, retryMinMs: 50, retryMaxMs: 200, timeoutMs: 75 },
      flaky.url,
    );
    const tight = rule(60, 2);
    expect((await store.take("before", tight, Date.now())).allowed).toBe(true);
    expect(log.lines.map((line) => line.message)).toEqual(["rate limits: shared via Redis"]);

    await flaky.stop();
    const started = performance.now();
    const verdicts = [];
    for (let i = 0; i < 3; i++) verdicts.push((await store.take("during", tight, Date.now())).allowed);
    expect(performance.now() - started).toBeLessThan(500);
    expect(verdicts).toEqual([true, true, false]); // still limiting, from this replica's own buckets
    const down = store.status();
    expect([down.store, down.healthy]).toEqual(["local", false]);
    expect(down.lastError).toBeString();
    for (let i = 0; i < 50; i++) await store.take("during", tight, Date.now());
    expect(log.count("warn")).toBe(1);

    await flaky.start();
    await until(() => store.status().store === "redis", 5_000, "back on Redis");
    expect(store.status()).toEqual({ store: "redis", healthy: true, lastError: down.lastError });
    expect(log.lines.at(-1)?.message).toBe("rate limits: Redis is back, limits are shared again");
    expect((await store.take("after", tight, Date.now())).allowed).toBe(true);
    const check = new RedisClient(flaky.url);
    try {
      expect(await check.send("KEYS", ["*after"])).toHaveLength(1);
    } finally {
      check.close();
    }
  });

  test("frozen (SIGSTOP): each decision waits at most the timeout, then Redis is used again once it thaws", async () => {
    const store = await open({ retryMinMs: 50, retryMaxMs: 200, timeoutMs: 75 }, flaky.url);
    flaky.pause();
    try {
      const started = performance.now();
      expect((await store.take("k", rule(60, 5), Date.now())).allowed).toBe(true);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(70);
      expect(waited).toBeLessThan(400);
      expect(store.status().store).toBe("local");
      // Later decisions do not wait at all while the probe runs in the background.
      const next = performance.now();
      await store.take("k", rule(60, 5), Date.now());
      expect(performance.now() - next).toBeLessThan(20);
    } finally {
      flaky.resume();
    }
    await until(() => store.status().store === "redis", 5_000, "back on Redis");
  });

  test("a local limiter and a shared one give the same decisions for the same traffic", async () => {
    const options = { globalPerMinute: 600, perIpPerMinute: 60, healthPerMinute: 120, burst: 3 };
    const shared = createSharedRateLimiter(options, await open({ clock: "caller" }, flaky.url));
    const local = createRateLimiter(options);
    const traffic = ["a", "a", "b", "a", "a", "c", "a", "b", "b", "b", "b"];
    for (const [i, ip] of traffic.entries()) {
      const kind = i % 5 === 4 ? "health" : "proxy";
      expect(await shared.check(kind, ip, i * 100)).toEqual(local.check(kind, ip, i * 100));
    }
    expect(shared.status().store).toBe("redis");
  });
});
