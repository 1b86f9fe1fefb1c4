// The token-bucket arithmetic every store must reproduce exactly (local Map, Redis script), on a clock the
// test drives: burst, refill, Retry-After rounding, the reset header, all-or-nothing takes.

import { expect, test } from "bun:test";
import type { BucketRequest, BucketResult, BucketRule } from "../../../src/limits/index.ts";
import { bucketRule } from "../../../src/limits/index.ts";

export interface ContractStore {
  takeAll(requests: readonly BucketRequest[], now: number): BucketResult[] | Promise<BucketResult[]>;
  take(key: string, rule: BucketRule, now: number): BucketResult | Promise<BucketResult>;
}

const rule = (perMinute: number, burst: number) => bucketRule(perMinute, burst) as BucketRule;
const brief = ({ allowed, remaining, resetSeconds, retryAfterSeconds }: BucketResult) => ({
  allowed,
  remaining,
  resetSeconds,
  retryAfterSeconds,
});

/** Registers the contract tests; `store()` gives a store whose keys no other test uses. */
export function bucketContract(store: () => ContractStore | Promise<ContractStore>): void {
  test("a full bucket lets `burst` requests through at once, then refuses until a token is back", async () => {
    const buckets = await store();
    const oneASecond = rule(60, 3); // one token per 1000 ms, three at most
    const at = async (now: number) => brief(await buckets.take("k", oneASecond, now));
    expect(await at(0)).toEqual({ allowed: true, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 });
    expect(await at(0)).toEqual({ allowed: true, remaining: 1, resetSeconds: 2, retryAfterSeconds: 0 });
    expect(await at(0)).toEqual({ allowed: true, remaining: 0, resetSeconds: 3, retryAfterSeconds: 0 });
    expect(await at(0)).toEqual({ allowed: false, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
    expect(await at(999)).toEqual({ allowed: false, remaining: 0, resetSeconds: 3, retryAfterSeconds: 1 });
    // Exactly one interval later one token is back, and used at once.
    expect(await at(1000)).toEqual({ allowed: true, remaining: 0, resetSeconds: 3, retryAfterSeconds: 0 });
    // 2.5 s later: two and a half tokens earned, two whole ones usable.
    expect(await at(3500)).toEqual({ allowed: true, remaining: 1, resetSeconds: 2, retryAfterSeconds: 0 });
    // Long idle: full again, as if new.
    expect(await at(60_000)).toEqual({ allowed: true, remaining: 2, resetSeconds: 1, retryAfterSeconds: 0 });
  });

  test("Retry-After rounds the wait for one token up to whole seconds, at least 1", async () => {
    const buckets = await store();
    const onePerMinute = rule(1, 1);
    expect((await buckets.take("k", onePerMinute, 0)).allowed).toBe(true);
    const retry = async (now: number) => (await buckets.take("k", onePerMinute, now)).retryAfterSeconds;
    expect(await retry(1)).toBe(60); // 59.999 s
    expect(await retry(58_999)).toBe(2); // 1.001 s
    expect(await retry(59_000)).toBe(1); // exactly 1 s
    expect(await retry(59_999)).toBe(1); // 1 ms still means "come back in a second"
    expect((await buckets.take("k", onePerMinute, 60_000)).allowed).toBe(true);
  });

  test("X-RateLimit-Reset counts seconds until the bucket is full, rounded up", async () => {
    const buckets = await store();
    const slow = rule(6, 10); // a token every 10 s
    expect((await buckets.take("k", slow, 0)).resetSeconds).toBe(10);
    expect((await buckets.take("k", slow, 0)).resetSeconds).toBe(20);
    expect((await buckets.take("k", slow, 4_500)).resetSeconds).toBe(26); // 25.5 s owed
  });

  test("rates that do not divide a minute evenly still allow exactly `burst`", async () => {
    const buckets = await store();
    const sevenAMinute = rule(7, 7);
    for (let i = 0; i < 7; i++) expect((await buckets.take("k", sevenAMinute, 0)).allowed).toBe(true);
    expect((await buckets.take("k", sevenAMinute, 0)).allowed).toBe(false);
    expect((await buckets.take("k", sevenAMinute, 60_000 / 7 - 1)).allowed).toBe(false);
    expect((await buckets.take("k", sevenAMinute, 60_000 / 7)).allowed).toBe(true);
  });

  test("burst 0 means a whole minute's allowance may be spent at once", async () => {
    const buckets = await store();
    const tenAMinute = rule(10, 0);
    for (let i = 0; i < 10; i++) expect((await buckets.take("k", tenAMinute, 0)).allowed).toBe(true);
    expect(brief(await buckets.take("k", tenAMinute, 0))).toEqual({
      allowed: false,
      remaining: 0,
      resetSeconds: 60,
      retryAfterSeconds: 6,
    });
  });

  test("a take across buckets consumes from all of them or from none", async () => {
    const buckets = await store();
    const narrow = rule(60, 1);
    const wide = rule(60, 5);
    const both = [
      { key: "narrow", rule: narrow },
      { key: "wide", rule: wide },
    ];
    expect((await buckets.takeAll(both, 0)).map((result) => result.allowed)).toEqual([true, true]);
    const refused = await buckets.takeAll(both, 0);
    expect(refused.map((result) => result.allowed)).toEqual([false, true]);
    expect(refused[1]?.remaining).toBe(4); // shown as it stands: nothing was taken
    expect((await buckets.take("wide", wide, 0)).remaining).toBe(3); // only the first take counted
  });

  test("buckets with different keys are independent", async () => {
    const buckets = await store();
    const single = rule(60, 1);
    expect((await buckets.take("a", single, 0)).allowed).toBe(true);
    expect((await buckets.take("a", single, 0)).allowed).toBe(false);
    expect((await buckets.take("b", single, 0)).allowed).toBe(true);
  });
}
