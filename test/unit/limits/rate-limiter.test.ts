import { describe, expect, test } from "bun:test";
import { createLocalBuckets, createRateLimiter, type RateLimitOptions } from "../../../src/limits/index.ts";

const base: RateLimitOptions = { globalPerMinute: 0, perIpPerMinute: 60, healthPerMinute: 0, burst: 2 };

describe("rate limiter", () => {
  test("per client: burst, then 429 numbers and headers, other clients unaffected", () => {
    const limiter = createRateLimiter(base);
    expect(limiter.check("proxy", "1.1.1.1", 0).headers).toEqual({
      "X-RateLimit-Limit": "60",
      "X-RateLimit-Remaining": "1",
      "X-RateLimit-Reset": "1",
    });
    expect(limiter.check("proxy", "1.1.1.1", 0).allowed).toBe(true);
    const refused = limiter.check("proxy", "1.1.1.1", 500);
    expect(refused).toEqual({
      allowed: false,
      limited: true,
      deniedBy: "ip",
      limit: 60,
      remaining: 0,
      resetSeconds: 2,
      retryAfterSeconds: 1,
      headers: {
        "X-RateLimit-Limit": "60",
        "X-RateLimit-Remaining": "0",
        // Unix seconds: 0.5 s now + 2 s to full, rounded up.
        "X-RateLimit-Reset": "3",
        "Retry-After": "1",
      },
    });
    const later = limiter.check("proxy", "3.3.3.3", 1_700_000_000_250);
    // One token of two taken: full in 1 s, from 1,700,000,000.25 s.
    expect(later.headers["X-RateLimit-Reset"]).toBe("1700000002");
    expect(limiter.check("proxy", "2.2.2.2", 500).allowed).toBe(true);
    expect(limiter.check("proxy", "1.1.1.1", 1000).allowed).toBe(true);
  });

  test("a request the client's bucket refuses costs no global token, and the reverse", () => {
    // Global: a token every 500 ms, three at most. Per client: a token every 1000 ms, two at most.
    const limiter = createRateLimiter({ ...base, globalPerMinute: 120, globalBurst: 3 });
    expect(limiter.check("proxy", "a", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "a", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "a", 0).deniedBy).toBe("ip");
    // Had a's refusal cost a global token, none would be left for c.
    expect(limiter.check("proxy", "c", 0).allowed).toBe(true);
    const refused = limiter.check("proxy", "d", 0);
    expect([refused.deniedBy, refused.remaining, refused.retryAfterSeconds]).toEqual(["global", 0, 1]);
    expect(refused.limit).toBe(60); // headers still describe the client's own quota
    // 500 ms on, the global bucket has one token; d's own bucket was never charged, so it shows 1 left
    // (charged at t=0 it would show 0).
    const later = limiter.check("proxy", "d", 500);
    expect([later.allowed, later.remaining]).toEqual([true, 1]);
  });

  test("global bucket capacity defaults to a minute's worth, not the per-client burst", () => {
    const limiter = createRateLimiter({ ...base, perIpPerMinute: 0, globalPerMinute: 100 });
    for (let i = 0; i < 100; i++) expect(limiter.check("proxy", `10.0.0.${i}`, 0).allowed).toBe(true);
    const refused = limiter.check("proxy", "10.0.1.1", 0);
    expect([refused.deniedBy, refused.limit, refused.retryAfterSeconds]).toEqual(["global", 100, 1]);
  });

  test("0 turns a limit off; all off means no limit and no headers", () => {
    const open = createRateLimiter({ globalPerMinute: 0, perIpPerMinute: 0, healthPerMinute: 0, burst: 50 });
    for (let i = 0; i < 1_000; i++) {
      const decision = open.check(i % 2 ? "proxy" : "health", "1.1.1.1", 0);
      expect([decision.allowed, decision.limited]).toEqual([true, false]);
    }
    expect(open.check("proxy", "1.1.1.1", 0).headers).toEqual({});
    // Per-client off but global on (Olla would skip the global bucket here): the global numbers show.
    const globalOnly = createRateLimiter({ ...base, perIpPerMinute: 0, globalPerMinute: 30, globalBurst: 1 });
    expect(globalOnly.check("proxy", "1.1.1.1", 0).headers["X-RateLimit-Limit"]).toBe("30");
    expect(globalOnly.check("proxy", "2.2.2.2", 0).deniedBy).toBe("global");
  });

  test("health checks have their own bucket, apart from proxy and global buckets", () => {
    const limiter = createRateLimiter({
      globalPerMinute: 60,
      globalBurst: 1,
      perIpPerMinute: 60,
      healthPerMinute: 120,
      burst: 1,
    });
    expect(limiter.check("proxy", "1.1.1.1", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "1.1.1.1", 0).allowed).toBe(false);
    expect(limiter.check("proxy", "2.2.2.2", 0).deniedBy).toBe("global");
    const health = limiter.check("health", "1.1.1.1", 0);
    expect([health.allowed, health.limit]).toEqual([true, 120]);
    expect(limiter.check("health", "1.1.1.1", 0).deniedBy).toBe("health");
    expect(limiter.check("health", "2.2.2.2", 0).allowed).toBe(true);
    // Health traffic took nothing from the proxy buckets.
    expect(limiter.check("proxy", "1.1.1.1", 1000).allowed).toBe(true);
  });

  test("IPv6 clients share a bucket per /64; IPv4-mapped and plain IPv4 are one client", () => {
    const limiter = createRateLimiter({ ...base, burst: 1 });
    expect(limiter.check("proxy", "2001:db8:1:2::1", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "2001:db8:1:2::ffff", 0).allowed).toBe(false);
    expect(limiter.check("proxy", "2001:db8:1:3::1", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "10.0.0.1", 0).allowed).toBe(true);
    expect(limiter.check("proxy", "::ffff:10.0.0.1", 0).allowed).toBe(false);
    const perAddress = createRateLimiter({ ...base, burst: 1, ipv6PrefixBits: 128 });
    expect(perAddress.check("proxy", "2001:db8:1:2::1", 0).allowed).toBe(true);
    expect(perAddress.check("proxy", "2001:db8:1:2::2", 0).allowed).toBe(true);
  });

  test("sweep drops full buckets of a store it was given", () => {
    const store = createLocalBuckets();
    const limiter = createRateLimiter({ ...base, globalPerMinute: 600 }, store);
    for (let i = 0; i < 100; i++) limiter.check("proxy", `10.0.0.${i}`, 0);
    expect(store.size()).toBe(101); // 100 clients + the global bucket
    expect(limiter.sweep(1_000)).toBe(100); // clients full again; the global bucket owes 10 s
    expect(limiter.sweep(10_000)).toBe(1);
    expect(store.size()).toBe(0);
  });

  test("without a clock it reads the real one", () => {
    const limiter = createRateLimiter(base);
    expect(limiter.check("proxy", "1.1.1.1").remaining).toBe(1);
    expect(limiter.sweep()).toBe(0); // just taken: owes a token
  });
});
