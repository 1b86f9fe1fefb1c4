import { describe, expect, test } from "bun:test";
import {
  formatBytes,
  formatLatency,
  formatPercent,
  formatUptime,
  timeAgo,
  timeUntil,
} from "../../../src/endpoints/human-format.ts";

describe("human formatting for the status pages", () => {
  test("latency: whole milliseconds below a second, one decimal of seconds above", () => {
    expect(formatLatency(0)).toBe("0ms");
    expect(formatLatency(0.4)).toBe("0ms");
    expect(formatLatency(7)).toBe("7ms");
    expect(formatLatency(119.6)).toBe("120ms");
    expect(formatLatency(999)).toBe("999ms");
    expect(formatLatency(1000)).toBe("1.0s");
    expect(formatLatency(1234)).toBe("1.2s");
    expect(formatLatency(65_000)).toBe("65.0s");
  });

  test("bytes: powers of 1024, two decimals from a KB up (as Olla)", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024)).toBe("1.00 KB");
    expect(formatBytes(1229)).toBe("1.20 KB");
    expect(formatBytes(3.4 * 1024 ** 2)).toBe("3.40 MB");
    expect(formatBytes(1024 ** 3)).toBe("1.00 GB");
    expect(formatBytes(2 * 1024 ** 4)).toBe("2.00 TB");
  });

  test("percent: 0% and 100% bare, one decimal between", () => {
    expect(formatPercent(0)).toBe("0%");
    expect(formatPercent(100)).toBe("100%");
    expect(formatPercent(99.62)).toBe("99.6%");
    expect(formatPercent(50)).toBe("50.0%");
  });

  test("uptime: seconds, minutes, then hours and minutes, then days and hours (as Olla)", () => {
    expect(formatUptime(0)).toBe("0s");
    expect(formatUptime(45_000)).toBe("45s");
    expect(formatUptime(120_000)).toBe("2m");
    expect(formatUptime(3_723_000)).toBe("1h 2m");
    expect(formatUptime(26 * 3_600_000 + 60_000)).toBe("1d 2h");
  });

  test("relative times: one unit, never / unknown / now (as Olla)", () => {
    const now = 10_000_000;
    expect(timeAgo(undefined, now)).toBe("never");
    expect(timeAgo(now, now)).toBe("0s ago");
    expect(timeAgo(now - 2_500, now)).toBe("2s ago");
    expect(timeAgo(now - 90_000, now)).toBe("2m ago");
    expect(timeAgo(now - 3 * 3_600_000, now)).toBe("3h ago");
    expect(timeAgo(now - 2 * 86_400_000, now)).toBe("2d ago");
    // A time a little ahead of this clock reads as just now, never as negative.
    expect(timeAgo(now + 5_000, now)).toBe("0s ago");
    expect(timeUntil(undefined, now)).toBe("unknown");
    expect(timeUntil(now + 3_200, now)).toBe("in 3s");
    expect(timeUntil(now + 60_000, now)).toBe("in 1m");
    expect(timeUntil(now + 500, now)).toBe("in 0s");
    expect(timeUntil(now - 5_000, now)).toBe("now");
  });
});
