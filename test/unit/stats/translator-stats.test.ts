import { describe, expect, test } from "bun:test";
import { createTranslatorStats } from "../../../src/stats/translator-stats.ts";

const request = {
  mode: "translation" as const,
  streaming: false,
  success: true,
  durationMs: 10,
};

describe("translator stats", () => {
  test("sorted by requests, busiest first; inactive translators listed and summed as such", () => {
    const stats = createTranslatorStats(["anthropic", "other"]);
    stats.record("other", request);
    const body = stats.snapshot(new Date(0));
    expect(body.timestamp).toBe("1970-01-01T00:00:00.000Z");
    expect(body.translators.map((entry) => entry.translator_name)).toEqual(["other", "anthropic"]);
    expect(body.summary).toMatchObject({ total_translators: 2, active_translators: 1, total_requests: 1 });
  });

  test("rates are percentages with one decimal; latency is averaged over successful requests only", () => {
    const stats = createTranslatorStats(["anthropic"]);
    stats.record("anthropic", { ...request, mode: "passthrough", durationMs: 10 });
    stats.record("anthropic", { ...request, durationMs: 21 });
    stats.record("anthropic", { ...request, success: false, durationMs: 5_000 });
    const [entry] = stats.snapshot().translators;
    expect(entry).toMatchObject({
      success_rate: 66.7,
      passthrough_rate: 33.3,
      average_latency: 15.5,
    });
    expect(stats.snapshot().summary).toMatchObject({
      overall_success_rate: 66.7,
      overall_passthrough_rate: 33.3,
    });
  });

  test("a fallback reason counts for translated requests only", () => {
    const stats = createTranslatorStats(["anthropic"]);
    stats.record("anthropic", { ...request, fallback: "cannot_passthrough" });
    stats.record("anthropic", { ...request, mode: "passthrough", fallback: "cannot_passthrough" });
    stats.record("anthropic", { ...request, streaming: true });
    expect(stats.snapshot().translators[0]).toMatchObject({
      fallback_cannot_passthrough: 1,
      fallback_no_compatible_endpoints: 0,
      translation_requests: 2,
      passthrough_requests: 1,
      streaming_requests: 1,
      non_streaming_requests: 2,
    });
  });
});
