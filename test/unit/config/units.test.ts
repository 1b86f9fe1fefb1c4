import { describe, expect, test } from "bun:test";
import { formatDuration, formatSize, parseDuration, parseSize } from "../../../src/config/index.ts";

describe("durations", () => {
  test.each([
    ["500ms", 500],
    ["5s", 5000],
    ["15m", 900_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1.5s", 1500],
    ["0", 0],
    [0, 0],
    [" 10s ", 10_000],
    ["250us", 0.25],
  ] as const)("%p is %p ms", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  test.each(["", "5", "abc", "5 s", "s5", "5x", "-5s", "1h-3m", 30])("%p is refused", (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });

  test.each([
    [0, "0s"],
    [500, "500ms"],
    [30_000, "30s"],
    [300_000, "5m"],
    [5_400_000, "1h30m"],
    [90_500, "90500ms"],
  ])("%p ms reads back as %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});

describe("sizes", () => {
  test.each([
    ["50MB", 50 * 1024 ** 2],
    ["1MiB", 1024 ** 2],
    ["512KB", 512 * 1024],
    ["2gb", 2 * 1024 ** 3],
    ["1048576", 1_048_576],
    [4096, 4096],
    ["10 MB", 10 * 1024 ** 2],
    ["1.5K", 1536],
  ] as const)("%p is %p bytes", (input, bytes) => {
    expect(parseSize(input)).toBe(bytes);
  });

  test.each(["", "MB", "10XB", "-1", "1 0MB", -5])("%p is refused", (input) => {
    expect(parseSize(input)).toBeUndefined();
  });

  test("formats with binary units and reads back", () => {
    for (const bytes of [1500, 1024, 100 * 1024 ** 2, 3 * 1024 ** 3]) {
      expect(parseSize(formatSize(bytes))).toBe(bytes);
    }
    expect(formatSize(100 * 1024 ** 2)).toBe("100MiB");
  });
});
