import { describe, expect, test } from "bun:test";
import { type BucketRule, bucketRule, createLocalBuckets } from "../../../src/limits/index.ts";
import { bucketContract } from "./bucket-contract.ts";

describe("local buckets: the bucket contract", () => {
  bucketContract(createLocalBuckets);
});

describe("bucketRule", () => {
  test("refills perMinute/60 tokens a second and holds `burst` of them", () => {
    expect(bucketRule(100, 50)).toEqual({ perMinute: 100, capacity: 50, intervalMs: 600, windowMs: 30_000 });
  });

  test("0 (or less) turns the limit off", () => {
    expect(bucketRule(0, 50)).toBeUndefined();
    expect(bucketRule(-1, 50)).toBeUndefined();
  });
});

describe("sweeping", () => {
  const perIp = bucketRule(100, 50) as BucketRule; // one token back every 600 ms

  test("100k clients, then nothing left once every bucket has refilled", () => {
    const buckets = createLocalBuckets();
    for (let i = 0; i < 100_000; i++)
      buckets.take(`ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, perIp, 0);
    expect(buckets.size()).toBe(100_000);
    expect(buckets.sweep(599)).toBe(0); // not full yet: still owed a token
    expect(buckets.size()).toBe(100_000);
    expect(buckets.sweep(600)).toBe(100_000);
    expect(buckets.size()).toBe(0);
  });

  test("a swept bucket behaves exactly like the full one it replaced", () => {
    const buckets = createLocalBuckets();
    const tight = bucketRule(60, 2) as BucketRule;
    buckets.take("k", tight, 0);
    buckets.sweep(1000);
    expect(buckets.size()).toBe(0);
    expect(buckets.take("k", tight, 1000)).toEqual(createLocalBuckets().take("k", tight, 1000));
  });

  test("only full buckets go; busy ones keep their debt", () => {
    const buckets = createLocalBuckets();
    buckets.take("idle", perIp, 0);
    for (let i = 0; i < 10; i++) buckets.take("busy", perIp, 0);
    expect(buckets.sweep(600)).toBe(1);
    expect(buckets.take("busy", perIp, 600).remaining).toBe(40); // 50 − 10 + 1 earned − 1 taken
  });

  test("memory stays flat across rounds of 100k new clients when swept", () => {
    const buckets = createLocalBuckets();
    const heapAfterRound = (round: number) => {
      const now = round * 1_000;
      for (let i = 0; i < 100_000; i++) buckets.take(`ip:${round}.${i >> 8}.${i & 255}.1`, perIp, now);
      buckets.sweep(now + 600);
      Bun.gc(true);
      return process.memoryUsage().heapUsed;
    };
    heapAfterRound(0);
    const settled = heapAfterRound(1);
    let last = settled;
    for (let round = 2; round < 6; round++) last = heapAfterRound(round);
    expect(buckets.size()).toBe(0);
    // Measured: flat when swept; four unswept rounds add ~30 MB.
    expect(last - settled).toBeLessThan(6 * 1024 * 1024);
  });
});
