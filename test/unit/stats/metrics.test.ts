import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { createMetrics, statusClass } from "../../../src/stats/metrics.ts";

const sample = { endpoint: "gpu-1", model: "llama3.2", status: 200, family: "openai", durationMs: 120 };

describe("metrics", () => {
  test("Olla's gauge families: olla_system_status is the fleet's status (2 healthy, 1 degraded, 0 critical)", () => {
    const status = (verdict: "healthy" | "degraded" | "critical") => {
      const text = createMetrics().render({
        endpoints: [{ name: "a", up: true, inFlight: 3, priority: 80, models: 4 }],
        system: { info: { version: "0.1.0" }, uptimeSeconds: 12, status: verdict },
      });
      return new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family.metrics]));
    };
    expect(status("healthy").get("olla_system_status")![0]!.value).toBe("2");
    expect(status("degraded").get("olla_system_status")![0]!.value).toBe("1");
    const families = status("critical");
    expect(families.get("olla_system_status")![0]!.value).toBe("0");
    expect(families.get("olla_uptime_seconds")![0]!.value).toBe("12");
    expect(families.get("olla_endpoint_priority")![0]).toMatchObject({
      labels: { endpoint: "a" },
      value: "80",
    });
    expect(families.get("olla_endpoint_models_count")![0]!.value).toBe("4");
    expect(families.get("olla_active_connections")![0]!.value).toBe("3");
  });

  test("the exposition parses, with counters, histograms and gauges where they belong", () => {
    const metrics = createMetrics();
    metrics.request({ ...sample, ttftMs: 30, usage: { input: 5, output: 7 } });
    metrics.request({ ...sample, status: 502, durationMs: 4000 });
    metrics.rateLimited("ip");
    metrics.healthCheck("gpu-1", 0.004);
    const text = metrics.render({
      endpoints: [{ name: 'gpu "one"\n', up: true, inFlight: 2, priority: 50, models: 0 }],
    });
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const requests = families.get("olla_requests_total")!;
    expect(requests.type).toBe("COUNTER");
    expect(requests.metrics.map((m) => [m.labels!.status_class, m.value])).toEqual([
      ["2xx", "1"],
      ["5xx", "1"],
    ]);
    const duration = families.get("olla_request_duration_seconds")!;
    expect(duration.type).toBe("HISTOGRAM");
    expect(duration.metrics[0]!.buckets!["+Inf"]).toBe("2");
    expect(duration.metrics[0]!.buckets!["0.25"]).toBe("1");
    expect(duration.metrics[0]!.buckets!["5"]).toBe("2");
    expect(families.get("olla_time_to_first_token_seconds")!.metrics[0]!.buckets!["0.05"]).toBe("1");
    const tokens = families.get("olla_tokens_total")!.metrics;
    expect(tokens.map((m) => [m.labels!.direction, m.value])).toEqual([
      ["input", "5"],
      ["output", "7"],
    ]);
    // Label values are escaped: the odd endpoint name survives the round trip.
    expect(families.get("olla_endpoint_up")!.metrics[0]!.labels!.endpoint).toBe('gpu "one"\n');
    expect(families.get("olla_endpoint_in_flight")!.metrics[0]!.value).toBe("2");
    expect(families.get("olla_rate_limited_total")!.metrics[0]).toMatchObject({
      labels: { scope: "ip" },
      value: "1",
    });
    expect(families.get("olla_endpoint_health_check_duration_seconds")!.metrics[0]!.buckets!["0.005"]).toBe(
      "1",
    );
    expect(Number(families.get("process_resident_memory_bytes")!.metrics[0]!.value)).toBeGreaterThan(0);
  });

  test('cardinality is capped: past the cap new models fold into model="other"', () => {
    const metrics = createMetrics({ maxSeries: 3 });
    for (let i = 0; i < 10; i++) metrics.request({ ...sample, model: `m${i}` });
    const requests = parsePrometheusTextFormat(metrics.render({ endpoints: [] })).find(
      (family) => family.name === "olla_requests_total",
    )!;
    expect(requests.metrics.map((m) => m.labels!.model)).toEqual(["m0", "m1", "m2", "other"]);
    expect(requests.metrics.at(-1)!.value).toBe("7");
  });

  test("status classes", () => {
    expect([200, 404, 502, 499].map(statusClass)).toEqual(["2xx", "4xx", "5xx", "client_closed"]);
  });
});
