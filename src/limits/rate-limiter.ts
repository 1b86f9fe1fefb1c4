// Request rate limits: a global bucket and a per-client bucket for proxied requests, a separate per-client
// bucket for health checks, decided together (all or nothing) and turned into response headers.

import { ipKey } from "./ip-address.ts";
import { type BucketRequest, createLocalBuckets, type LocalBuckets } from "./local-buckets.ts";
import type { RedisBuckets, StoreStatus } from "./redis-buckets.ts";
import { type BucketResult, bucketRule } from "./token-bucket.ts";

export interface RateLimitOptions {
  /** server.rate_limits.global_requests_per_minute: all proxied requests together; 0 = off. */
  globalPerMinute: number;
  /** per_ip_requests_per_minute: proxied requests of one client; 0 = off. */
  perIpPerMinute: number;
  /** health_requests_per_minute: health checks of one client; 0 = off. */
  healthPerMinute: number;
  /** burst_size: how many requests one client may send at once; 0 = a whole minute's allowance. */
  burst: number;
  /** Capacity of the global bucket. Default: globalPerMinute, since burst_size is a per-client figure
   *  and fifty clients arriving together are no burst of any one of them. */
  globalBurst?: number;
  /** IPv6 clients are limited per network of this many bits (default 64: one subscriber's allocation). */
  ipv6PrefixBits?: number;
}

/** Proxied traffic, or a health check (which has its own bucket so that a busy proxy never fails the
 *  probes that keep this replica in its load balancer, nor the reverse). */
export type RateLimitKind = "proxy" | "health";

export interface RateDecision {
  allowed: boolean;
  /** Some limit applied (false when all limits for this kind are off; then there are no headers). */
  limited: boolean;
  /** The bucket that refused, when one did. */
  deniedBy: "global" | "ip" | "health" | undefined;
  /** X-RateLimit-* values of the client's own bucket (the global one when per-client limits are off). */
  limit: number;
  remaining: number;
  resetSeconds: number;
  /** Seconds until the refusing bucket has a token again; 0 when allowed. */
  retryAfterSeconds: number;
  /** X-RateLimit-Limit, -Remaining, -Reset (Unix time in seconds when the bucket is full), and Retry-After
   *  on refusal. Empty when nothing is limited. */
  headers: Record<string, string>;
}

export interface RateLimiter {
  check(kind: RateLimitKind, ip: string, now?: number): RateDecision;
  /** Drops full buckets; returns how many. Call every cleanup_interval. */
  sweep(now?: number): number;
}

export interface SharedRateLimiter {
  check(kind: RateLimitKind, ip: string, now?: number): RateDecision | Promise<RateDecision>;
  /** Drops full local (fallback) buckets; Redis expires its own. */
  sweep(now?: number): number;
  status(): StoreStatus;
  close(): void;
}

type BucketName = "global" | "ip" | "health";

interface Plan {
  requests: BucketRequest[];
  names: BucketName[];
}

const OPEN: RateDecision = Object.freeze({
  allowed: true,
  limited: false,
  deniedBy: undefined,
  limit: 0,
  remaining: 0,
  resetSeconds: 0,
  retryAfterSeconds: 0,
  headers: Object.freeze({}) as Record<string, string>,
});

/** The buckets a request draws from and how their results become one decision; shared by both stores. */
function planner(options: RateLimitOptions) {
  const global = bucketRule(options.globalPerMinute, options.globalBurst ?? options.globalPerMinute);
  const perIp = bucketRule(options.perIpPerMinute, options.burst);
  const health = bucketRule(options.healthPerMinute, options.burst);
  const v6Bits = options.ipv6PrefixBits ?? 64;

  function plan(kind: RateLimitKind, ip: string): Plan | undefined {
    // Nothing limits this kind: no key to compute on the request path.
    if (kind === "health" ? !health : !perIp && !global) return undefined;
    const client = ipKey(ip, v6Bits);
    const requests: BucketRequest[] = [];
    const names: BucketName[] = [];
    // Pushed in place, not through a helper closure: this runs for every request.
    if (kind === "health") {
      if (health) {
        requests.push({ key: `h:${client}`, rule: health });
        names.push("health");
      }
    } else {
      // Client first: its numbers are the ones reported.
      if (perIp) {
        requests.push({ key: `ip:${client}`, rule: perIp });
        names.push("ip");
      }
      if (global) {
        requests.push({ key: "g", rule: global });
        names.push("global");
      }
    }
    return requests.length === 0 ? undefined : { requests, names };
  }

  function decide({ names }: Plan, results: BucketResult[], now: number): RateDecision {
    const shown = results[0] as BucketResult;
    let refused = -1;
    for (let i = 0; i < results.length && refused < 0; i++) if (!results[i]!.allowed) refused = i;
    const allowed = refused < 0;
    const denier = allowed ? undefined : (results[refused] as BucketResult);
    // Refused by the global bucket alone: the client's own bucket still has tokens, but none can be used now.
    const remaining = allowed ? shown.remaining : 0;
    const headers: Record<string, string> = {
      "X-RateLimit-Limit": String(shown.limit),
      "X-RateLimit-Remaining": String(remaining),
      // As Olla (and GitHub) send it: the Unix time, in seconds, when the bucket is full again.
      "X-RateLimit-Reset": String(Math.ceil(now / 1000 + shown.resetSeconds)),
    };
    if (denier) headers["Retry-After"] = String(denier.retryAfterSeconds);
    return {
      allowed,
      limited: true,
      deniedBy: allowed ? undefined : names[refused],
      limit: shown.limit,
      remaining,
      resetSeconds: shown.resetSeconds,
      retryAfterSeconds: denier?.retryAfterSeconds ?? 0,
      headers,
    };
  }

  return { plan, decide };
}

/** Limits within this process (the default store), synchronously. */
export function createRateLimiter(
  options: RateLimitOptions,
  store: LocalBuckets = createLocalBuckets(),
): RateLimiter {
  const { plan, decide } = planner(options);
  return {
    check(kind, ip, now = Date.now()) {
      const planned = plan(kind, ip);
      return planned ? decide(planned, store.takeAll(planned.requests, now), now) : OPEN;
    },
    sweep: (now = Date.now()) => store.sweep(now),
  };
}

/** Limits shared by every replica through Redis (falling back to local buckets while Redis is away). */
export function createSharedRateLimiter(options: RateLimitOptions, store: RedisBuckets): SharedRateLimiter {
  const { plan, decide } = planner(options);
  return {
    check(kind, ip, now = Date.now()) {
      const planned = plan(kind, ip);
      // Nothing limits this kind: answer now, without a round trip through a promise.
      return planned
        ? store.takeAll(planned.requests, now).then((taken) => decide(planned, taken, now))
        : OPEN;
    },
    sweep: (now = Date.now()) => store.sweep(now),
    status: () => store.status(),
    close: () => store.close(),
  };
}
