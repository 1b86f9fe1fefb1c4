import { describe, expect, test } from "bun:test";
import { createHistogram, observe, quantile } from "../../../src/stats/histogram.ts";

describe("histogram", () => {
  test("counts land in the first bucket whose bound is not exceeded; sum and count add up", () => {
    const histogram = createHistogram([1, 2, 5]);
    for (const value of [0.5, 1, 1.5, 2, 4, 9]) observe(histogram, value);
    expect([...histogram.counts]).toEqual([2, 2, 1, 1]);
    expect(histogram.count).toBe(6);
    expect(histogram.sum).toBe(18);
  });

  test("quantiles interpolate inside their bucket", () => {
    const histogram = createHistogram([10, 20, 30]);
    // 100 values spread evenly over 0..30 by tens: 40 in the first bucket, 40 in the second, 20 in the third.
    for (let i = 0; i < 40; i++) observe(histogram, 5);
    for (let i = 0; i < 40; i++) observe(histogram, 15);
    for (let i = 0; i < 20; i++) observe(histogram, 25);
    expect(quantile(histogram, 0.2)).toBeCloseTo(5);
    expect(quantile(histogram, 0.5)).toBeCloseTo(12.5);
    expect(quantile(histogram, 0.9)).toBeCloseTo(25);
    expect(quantile(histogram, 1)).toBeCloseTo(30);
  });

  test("empty → null; values past the last bound report the last bound", () => {
    const histogram = createHistogram([1, 2]);
    expect(quantile(histogram, 0.5)).toBeNull();
    observe(histogram, 100);
    expect(quantile(histogram, 0.99)).toBe(2);
  });

  test("memory is fixed: a million observations keep the same arrays", () => {
    const histogram = createHistogram();
    const counts = histogram.counts;
    for (let i = 0; i < 1_000_000; i++) observe(histogram, (i % 1000) / 100);
    expect(histogram.counts).toBe(counts);
    expect(histogram.count).toBe(1_000_000);
  });
});
