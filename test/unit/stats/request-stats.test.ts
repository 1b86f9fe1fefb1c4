import { describe, expect, test } from "bun:test";
import {
  createRequestStats,
  type RequestOutcome,
  type RequestStats,
  tallyJson,
} from "../../../src/stats/request-stats.ts";

type Finished = RequestOutcome & { endpoint: string; durationMs: number };
const outcome = (patch: Partial<Finished> = {}): Finished => ({
  endpoint: "gpu-1",
  model: "llama3.2",
  status: 200,
  bytesIn: 100,
  bytesOut: 1000,
  durationMs: 200,
  ...patch,
});
const finish = (stats: RequestStats, done: Finished) => stats.finish(done.endpoint, done, done.durationMs);

describe("request stats", () => {
  test("per endpoint and per model, with the split per endpoint", () => {
    const stats = createRequestStats({ maxModels: 10, modelIdleMs: 60_000 });
    stats.start("gpu-1", "llama3.2");
    expect(stats.model("llama3.2")!.inFlight).toBe(1);
    finish(stats, outcome({ ttftMs: 50, streamMs: 1000, usage: { input: 10, output: 40 } }));
    stats.start("gpu-2", "llama3.2");
    finish(stats, outcome({ endpoint: "gpu-2", status: 502, failure: "upstream_error" }));
    const model = tallyJson(stats.model("llama3.2")!);
    expect(model).toMatchObject({
      requests: 2,
      successes: 1,
      failures: 1,
      failures_by_cause: { upstream_error: 1 },
      in_flight: 0,
      bytes_in: 200,
      bytes_out: 2000,
      tokens: {
        input: 10,
        output: 40,
        responses_with_usage: 1,
        responses_without_usage: 0,
        output_per_second: 40,
      },
    });
    expect(model.ttft_ms.count).toBe(1);
    expect(model.latency_ms.p50).toBeGreaterThan(0);
    expect([...stats.models().get("llama3.2")!.byEndpoint.keys()]).toEqual(["gpu-1", "gpu-2"]);
    expect(stats.endpoint("gpu-2")!.failures).toEqual({ upstream_error: 1 });
  });

  test("failover: the endpoint that failed counts a failure, the model counts one request", () => {
    const stats = createRequestStats({ maxModels: 10, modelIdleMs: 60_000 });
    stats.start("gpu-1", "llama3.2");
    stats.failedOver("gpu-1", "llama3.2", "upstream_error");
    stats.start("gpu-2", "llama3.2");
    finish(stats, outcome({ endpoint: "gpu-2" }));
    expect(tallyJson(stats.model("llama3.2")!)).toMatchObject({
      requests: 1,
      successes: 1,
      failures: 0,
      in_flight: 0,
      bytes_out: 1000,
    });
    expect(tallyJson(stats.endpoint("gpu-1")!)).toMatchObject({
      requests: 1,
      successes: 0,
      failures_by_cause: { upstream_error: 1 },
      in_flight: 0,
      bytes_out: 0,
    });
    const split = stats.models().get("llama3.2")!.byEndpoint;
    expect(split.get("gpu-1")!.failures).toEqual({ upstream_error: 1 });
    expect(split.get("gpu-2")!.successes).toBe(1);
  });

  test("a successful answer without usage is counted as unknown, not as zero tokens", () => {
    const stats = createRequestStats({ maxModels: 10, modelIdleMs: 60_000 });
    finish(stats, outcome());
    expect(tallyJson(stats.model("llama3.2")!).tokens).toMatchObject({
      input: 0,
      output: 0,
      responses_with_usage: 0,
      responses_without_usage: 1,
      output_per_second: null,
    });
  });

  test("tokens per second prefer the server's own generation time", () => {
    const stats = createRequestStats({ maxModels: 10, modelIdleMs: 60_000 });
    finish(stats, outcome({ streamMs: 10_000, usage: { input: 1, output: 100, generationMs: 2000 } }));
    expect(tallyJson(stats.model("llama3.2")!).tokens.output_per_second).toBe(50);
  });

  test("bounded: at most maxModels, the least recently seen goes; idle ones are pruned", () => {
    let now = 0;
    const stats = createRequestStats({ maxModels: 3, modelIdleMs: 1000, now: () => now });
    for (const model of ["a", "b", "c"]) finish(stats, outcome({ model }));
    finish(stats, outcome({ model: "a" })); // a is now the most recent
    finish(stats, outcome({ model: "d" }));
    expect([...stats.models().keys()].sort()).toEqual(["a", "c", "d"]);
    now = 500;
    finish(stats, outcome({ model: "c" }));
    now = 1200;
    stats.prune();
    expect([...stats.models().keys()]).toEqual(["c"]);
  });

  test("rejected requests count against the model without an endpoint", () => {
    const stats = createRequestStats({ maxModels: 10, modelIdleMs: 60_000 });
    stats.rejected("ghost", "http_4xx");
    expect(tallyJson(stats.model("ghost")!)).toMatchObject({
      requests: 1,
      failures_by_cause: { http_4xx: 1 },
    });
    expect(stats.endpoints().size).toBe(0);
  });
});
