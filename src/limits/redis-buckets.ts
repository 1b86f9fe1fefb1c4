// Token buckets shared by every replica through Redis, with this process's own buckets as the fallback:
// a slow or dead Redis costs each decision at most `timeoutMs`, then the replica limits on its own until a
// background probe finds Redis healthy again.

import { RedisClient } from "bun";
import { BUCKET_SCRIPT, BUCKET_SCRIPT_SHA } from "./bucket-script.ts";
import { type BucketRequest, createLocalBuckets, type LocalBuckets } from "./local-buckets.ts";
import { type BucketResult, bucketRule, type BucketRule, describe } from "./token-bucket.ts";

/** What this module logs through; the app's Logger fits. */
export interface LimitsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface RedisBucketsOptions {
  /** redis://[user:pass@]host:port[/db], rediss://... (never logged with its credentials). */
  url: string;
  /** Prefix of every key written. Default "olla:rl:". */
  keyPrefix?: string;
  /** Longest wait for Redis per decision before answering from local buckets. Default 75 ms. */
  timeoutMs?: number;
  /** Longest wait for a (re)connection. Default 1000 ms. */
  connectTimeoutMs?: number;
  /** Reconnection backoff: first delay, doubled per failure up to the maximum. Defaults 250 ms, 10 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /**
   * Whose clock refills buckets. "redis" (default): the Redis server's, read inside the script, so replicas
   * whose clocks disagree still share one timeline; the `now` given to take() only drives the local
   * fallback. "caller": the `now` given to take(), for tests; with real replicas a clock ahead by Δ would
   * refill Δ × rate extra tokens, and one behind would see buckets emptier than they are.
   */
  clock?: "redis" | "caller";
  logger?: LimitsLogger;
  /** The fallback buckets (default: new ones). */
  fallback?: LocalBuckets;
}

export interface StoreStatus {
  /** Where decisions are taken now. */
  store: "redis" | "local";
  /** False while a configured Redis is not in use. */
  healthy: boolean;
  /** Why Redis was last given up (no credentials in it). */
  lastError: string | undefined;
}

export interface RedisBuckets {
  /** As LocalBuckets.takeAll, across replicas. Never rejects and never waits past `timeoutMs` (+ timer slack). */
  takeAll(requests: readonly BucketRequest[], now: number): Promise<BucketResult[]>;
  take(key: string, rule: BucketRule, now: number): Promise<BucketResult>;
  /** Sweeps the local fallback buckets (Redis expires its own). */
  sweep(now: number): number;
  status(): StoreStatus;
  /** Settles once the first connection attempt has succeeded or failed. */
  ready(): Promise<void>;
  /** Stops reconnecting and closes the connection; later decisions are local. */
  close(): void;
}

/** Always allows: the probe proves connection, scripting and writes without touching a real bucket. */
const PROBE_RULE = bucketRule(60_000, 1_000) as BucketRule;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** host:port/db only: the URL may carry a password. */
function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "redis (unparsable URL)";
  }
}

export function createRedisBuckets(options: RedisBucketsOptions): RedisBuckets {
  const prefix = options.keyPrefix ?? "olla:rl:";
  const timeoutMs = options.timeoutMs ?? 75;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1000;
  const retryMinMs = options.retryMinMs ?? 250;
  const retryMaxMs = options.retryMaxMs ?? 10_000;
  const callerClock = options.clock === "caller";
  const local = options.fallback ?? createLocalBuckets();
  const target = describeTarget(options.url);
  const logger = options.logger;

  let mode: "redis" | "local" = "local";
  let lastError: string | undefined;
  /** A warning went out and no recovery since: keeps a flapping Redis to one line per outage. */
  let warned = false;
  let everUp = false;
  let backoff = retryMinMs;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let probing = false;
  let closed = false;

  function newClient(): RedisClient {
    // Our own reconnection (with a probe) and no offline queue: a command to a lost Redis must fail at once,
    // not wait in a queue while the request it decides waits too.
    const fresh = new RedisClient(options.url, {
      autoReconnect: false,
      enableOfflineQueue: false,
      connectionTimeout: connectTimeoutMs,
    });
    fresh.onclose = (error) => {
      if (fresh !== client || closed) return;
      client = undefined;
      down(error ?? new Error("connection closed"));
    };
    return fresh;
  }

  async function viaRedis(redis: RedisClient, requests: readonly BucketRequest[], now: number) {
    const args: string[] = [callerClock ? String(now) : ""];
    for (const { rule } of requests) args.push(String(rule.intervalMs), String(rule.windowMs));
    const keys = requests.map(({ key }) => prefix + key);
    let reply: unknown;
    try {
      reply = await redis.evalsha(BUCKET_SCRIPT_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      // After a Redis restart or SCRIPT FLUSH the cache is empty; EVAL runs and caches it again.
      if (!errorText(error).startsWith("NOSCRIPT")) throw error;
      reply = await redis.eval(BUCKET_SCRIPT, keys.length, ...keys, ...args);
    }
    if (!Array.isArray(reply) || reply.length !== 2 + 2 * requests.length) {
      throw new Error("unexpected reply from the rate-limit script");
    }
    const at = Number(reply[1]);
    return requests.map(({ rule }, index) =>
      describe(Number(reply[2 + 2 * index]), rule, at, reply[3 + 2 * index] === 1),
    );
  }

  function schedule(): void {
    if (closed || probing || retryTimer) return;
    const delay = backoff;
    backoff = Math.min(backoff * 2, retryMaxMs);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void probe();
    }, delay);
    // Reconnecting must not keep the process alive on its own.
    (retryTimer as { unref?: () => void }).unref?.();
  }

  function down(error: unknown): void {
    lastError = errorText(error);
    mode = "local";
    if (!warned) {
      warned = true;
      logger?.warn("rate limits: Redis unavailable, each replica limits on its own until it is back", {
        redis: target,
        error: lastError,
      });
    }
    schedule();
  }

  function up(): void {
    mode = "redis";
    if (warned || !everUp) {
      logger?.info(
        everUp ? "rate limits: Redis is back, limits are shared again" : "rate limits: shared via Redis",
        {
          redis: target,
        },
      );
    }
    warned = false;
    everUp = true;
  }

  async function probe(): Promise<void> {
    if (closed || probing) return;
    probing = true;
    try {
      if (!client?.connected) {
        client ??= newClient();
        await within(client.connect(), connectTimeoutMs + 100, "Redis connect");
      }
      await within(
        viaRedis(client, [{ key: "probe", rule: PROBE_RULE }], Date.now()),
        connectTimeoutMs,
        "Redis probe",
      );
      probing = false;
      if (!closed) up();
    } catch (error) {
      probing = false;
      // A connection that still looks open may be half-open (a partition, a NAT that forgot us): the next
      // attempt dials afresh rather than waiting on it again.
      const stale = client;
      client = undefined;
      stale?.close();
      if (!closed) down(error);
    }
  }

  async function takeAll(requests: readonly BucketRequest[], now: number): Promise<BucketResult[]> {
    if (mode !== "redis" || !client || requests.length === 0) return local.takeAll(requests, now);
    try {
      const results = await within(viaRedis(client, requests, now), timeoutMs, "Redis rate-limit call");
      backoff = retryMinMs;
      return results;
    } catch (error) {
      if (!closed) down(error);
      return local.takeAll(requests, now);
    }
  }

  // Built now so that a malformed URL throws here, as a configuration error, not as an endless outage.
  // Replaced by a fresh client after every loss.
  let client: RedisClient | undefined = newClient();
  const first = probe();

  return {
    takeAll,
    take: async (key, rule, now) => (await takeAll([{ key, rule }], now))[0] as BucketResult,
    sweep: (now) => local.sweep(now),
    status: () => ({ store: mode, healthy: mode === "redis", lastError }),
    ready: () => first,
    close() {
      closed = true;
      mode = "local";
      clearTimeout(retryTimer);
      retryTimer = undefined;
      client?.close();
    },
  };
}
