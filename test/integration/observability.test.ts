// Stats, token usage, Prometheus metrics and the access log, seen through the real server after real
// answers (streamed and not, Ollama and OpenAI) from fake endpoints, for both engines.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { type FakeUpstream, startFakeUpstream, until } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

interface TallyJson {
  requests: number;
  successes: number;
  failures_by_cause: Record<string, number>;
  in_flight: number;
  bytes_out: number;
  latency_ms: { p50: number | null };
  ttft_ms: { p50: number | null; count: number };
  tokens: {
    input: number;
    output: number;
    responses_with_usage: number;
    responses_without_usage: number;
    output_per_second: number | null;
  };
}

describe.each(["olla", "sherpa"])("engine %s", (engine) => {
  let ollama: FakeUpstream;
  let vllm: FakeUpstream;
  let olla: TestOlla;

  beforeAll(async () => {
    ollama = await startFakeUpstream({ kind: "ollama", chunks: 4, chunkDelayMs: 5 });
    vllm = await startFakeUpstream({ kind: "vllm", chunks: 4, chunkDelayMs: 5 });
    olla = await startTestOlla(
      `proxy:\n  engine: ${engine}\nserver:\n  rate_limits:\n    per_ip_requests_per_minute: 0\n` +
        endpointsYaml([
          { name: "ollama-box", url: ollama.url, type: "ollama" },
          { name: "vllm-box", url: vllm.url, type: "vllm" },
        ]),
    );
  });
  afterAll(async () => {
    await olla.stop();
    await ollama.stop();
    await vllm.stop();
  });

  const modelStats = async (name: string) => {
    const body = (await (await fetch(`${olla.url}/internal/stats/models?include_endpoints=true`)).json()) as {
      models: (TallyJson & { name: string; endpoints: (TallyJson & { endpoint: string })[] })[];
    };
    return body.models.find((model) => model.name === name);
  };

  test("Ollama, streamed and not: tokens from the final object, time to first token for the stream", async () => {
    const client = new Ollama({ host: `${olla.url}/olla` });
    await client.chat({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] });
    let last: { prompt_eval_count?: number; eval_count?: number } = {};
    for await (const part of await client.chat({
      model: "llama3.2:latest",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    }))
      last = part;
    await until(
      async () => (await modelStats("llama3.2:latest"))?.requests === 2,
      3000,
      "2 requests in the stats",
    );
    const stats = (await modelStats("llama3.2:latest"))!;
    expect(stats.successes).toBe(2);
    expect(stats.tokens.responses_with_usage).toBe(2);
    expect(stats.tokens.output).toBe(2 * last.eval_count!);
    expect(stats.tokens.input).toBe(2 * last.prompt_eval_count!);
    expect(stats.tokens.output_per_second).toBeGreaterThan(0);
    expect(stats.ttft_ms.count).toBe(1);
    expect(stats.ttft_ms.p50).toBeGreaterThan(0);
    expect(stats.endpoints.map((entry) => entry.endpoint)).toEqual(["ollama-box"]);
  });

  test("OpenAI: usage from the whole answer and from the last chunk; a stream without usage is unknown", async () => {
    const openai = new OpenAI({ baseURL: `${olla.url}/olla/v1`, apiKey: "x", maxRetries: 0 });
    const model = "meta-llama/Llama-3.2-3B-Instruct";
    const whole = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hi" }],
    });
    const withUsage = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamedUsage = 0;
    for await (const chunk of withUsage) streamedUsage += chunk.usage?.completion_tokens ?? 0;
    const withoutUsage = await openai.chat.completions.create({
      model,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    for await (const _ of withoutUsage) {
    }
    await until(async () => (await modelStats(model))?.requests === 3, 3000, "3 requests in the stats");
    const stats = (await modelStats(model))!;
    expect(stats.tokens.output).toBe(whole.usage!.completion_tokens + streamedUsage);
    expect(stats.tokens.responses_with_usage).toBe(2);
    expect(stats.tokens.responses_without_usage).toBe(1);
    expect(stats.ttft_ms.count).toBe(2);
    expect(stats.in_flight).toBe(0);
  });

  test("failures by cause, per endpoint: a stream cut mid-way, an unknown model", async () => {
    vllm.set({ dieMidStream: 2 });
    const response = await fetch(`${olla.url}/olla/vllm/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "meta-llama/Llama-3.2-3B-Instruct",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      }),
    });
    await response.text();
    vllm.set({ dieMidStream: null });
    await fetch(`${olla.url}/olla/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "no-such-model", messages: [] }),
    });
    await until(
      async () => (await modelStats("no-such-model")) !== undefined,
      3000,
      "the rejected model in the stats",
    );
    const endpoints = (await (await fetch(`${olla.url}/internal/stats/endpoints`)).json()) as {
      endpoints: (TallyJson & { name: string })[];
    };
    const box = endpoints.endpoints.find((entry) => entry.name === "vllm-box")!;
    expect(box.failures_by_cause.mid_stream).toBe(1);
    expect((await modelStats("no-such-model"))!.failures_by_cause).toEqual({ http_4xx: 1 });
  });

  test("/internal/metrics parses as Prometheus text with filled histograms and token counters", async () => {
    const text = await (await fetch(`${olla.url}/internal/metrics`)).text();
    const families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    for (const name of [
      "olla_requests_total",
      "olla_request_duration_seconds",
      "olla_time_to_first_token_seconds",
      "olla_tokens_total",
      "olla_endpoint_up",
      "olla_endpoint_in_flight",
      "olla_endpoint_health_check_duration_seconds",
      "olla_rate_limited_total",
      "olla_upstream_connections",
      "olla_event_loop_lag_seconds",
      "process_resident_memory_bytes",
    ]) {
      expect(families.has(name)).toBe(true);
    }
    const total = families
      .get("olla_requests_total")!
      .metrics.filter((metric) => metric.labels!.endpoint === "ollama-box")
      .reduce((sum, metric) => sum + Number(metric.value), 0);
    expect(total).toBe(2);
    const output = families
      .get("olla_tokens_total")!
      .metrics.filter((metric) => metric.labels!.direction === "output")
      .reduce((sum, metric) => sum + Number(metric.value), 0);
    expect(output).toBeGreaterThan(0);
    const histogram = families.get("olla_request_duration_seconds")!.metrics;
    expect(histogram.some((metric) => Number(metric.buckets!["+Inf"]) > 0)).toBe(true);
    expect(families.get("olla_endpoint_up")!.metrics.map((metric) => metric.value)).toEqual(["1", "1"]);
    // Olla's own gauge families, for dashboards built on them.
    const gauge = (name: string) =>
      families.get(name)?.metrics.map((metric) => [metric.labels ?? {}, metric.value]);
    expect(gauge("olla_endpoints_total")).toEqual([[{}, "2"]]);
    expect(gauge("olla_endpoints_healthy")).toEqual([[{}, "2"]]);
    expect(gauge("olla_system_status")).toEqual([[{}, "2"]]);
    expect(Number(gauge("olla_uptime_seconds")![0]![1])).toBeGreaterThan(0);
    expect(gauge("olla_info")![0]![0]).toMatchObject({ engine, balancer: "priority" });
    expect(
      gauge("olla_endpoint_models_count")!
        .map(([labels]) => (labels as { endpoint: string }).endpoint)
        .sort(),
    ).toEqual(["ollama-box", "vllm-box"]);
    expect(gauge("olla_endpoint_models_count")!.every(([, value]) => Number(value) > 0)).toBe(true);
    for (const name of ["olla_active_connections", "olla_endpoint_connections", "olla_endpoint_priority"]) {
      expect(families.has(name)).toBe(true);
    }
    // The parser folds a histogram's label sets together; one _count line per endpoint shows them.
    expect(
      text.match(/^olla_endpoint_health_check_duration_seconds_count\{endpoint="[^"]+"\} [1-9]/gm)!.length,
    ).toBe(2);
  });

  test("a stream counts as in flight until its last byte", async () => {
    ollama.set({ chunks: 30, chunkDelayMs: 20 });
    try {
      const response = await fetch(`${olla.url}/olla/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
      });
      const inFlight = async () => {
        const body = (await (await fetch(`${olla.url}/internal/stats/endpoints`)).json()) as {
          endpoints: (TallyJson & { name: string })[];
        };
        return body.endpoints.find((entry) => entry.name === "ollama-box")!.in_flight;
      };
      expect(await inFlight()).toBe(1);
      expect((await modelStats("llama3.2:latest"))!.in_flight).toBe(1);
      await response.text();
      await until(async () => (await inFlight()) === 0, 3000, "nothing in flight");
    } finally {
      ollama.set({ chunks: 4, chunkDelayMs: 5 });
    }
  });

  test("the access log: one line per request with its fields, written when a stream ends", async () => {
    olla.logs.length = 0;
    const response = await fetch(`${olla.url}/olla/api/chat?api_key=s3cret&x=1`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.9" },
      body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
    });
    await response.text();
    await fetch(`${olla.url}/internal/health`);
    const line = (path: string) => olla.logs.find((entry) => entry.msg === "request" && entry.path === path);
    await until(
      () =>
        line("/olla/api/chat?api_key=REDACTED&x=1") !== undefined && line("/internal/health") !== undefined,
      3000,
      "both access-log lines",
    );
    const chat = line("/olla/api/chat?api_key=REDACTED&x=1");
    const health = line("/internal/health");
    expect(chat).toMatchObject({
      level: "info",
      request_id: response.headers.get("x-olla-request-id"),
      client_ip: "127.0.0.1",
      method: "POST",
      path: "/olla/api/chat?api_key=REDACTED&x=1",
      endpoint: "ollama-box",
      model: "llama3.2:latest",
      status: 200,
    });
    expect(chat!.bytes_out).toBeGreaterThan(0);
    expect(chat!.bytes_in).toBeGreaterThan(0);
    expect(chat!.tokens_out).toBeGreaterThan(0);
    expect(chat!.ttft_ms).toBeGreaterThan(0);
    expect(chat!.duration_ms).toBeGreaterThanOrEqual(chat!.ttft_ms as number);
    expect(JSON.stringify(olla.logs)).not.toContain("s3cret");
    expect(health).toMatchObject({ level: "debug", path: "/internal/health", status: 200 });
  });
});

/** One Ollama endpoint behind an olla started with this `server:` setting. */
async function withServerSetting(setting: string, run: (olla: TestOlla) => Promise<void>): Promise<void> {
  const upstream = await startFakeUpstream({ kind: "ollama", chunks: 2 });
  const olla = await startTestOlla(
    `server:\n  ${setting}\n${endpointsYaml([{ name: "box", url: upstream.url, type: "ollama" }])}`,
  );
  try {
    await run(olla);
  } finally {
    await olla.stop();
    await upstream.stop();
  }
}

test("server.request_stats: false keeps no statistics (the access log still runs)", async () => {
  await withServerSetting("request_stats: false", async (olla) => {
    // A proxied request naming a model: with statistics on it would show on the model and the endpoint.
    const chat = await fetch(`${olla.url}/olla/api/chat`, {
      method: "POST",
      body: JSON.stringify({
        model: "llama3.2:latest",
        messages: [{ role: "user", content: "hi" }],
        stream: false,
      }),
    });
    expect(chat.status).toBe(200);
    await chat.arrayBuffer();
    const stats = (await (await fetch(`${olla.url}/internal/stats/models`)).json()) as { models: unknown[] };
    expect(stats.models).toEqual([]);
    const endpoints = (await (await fetch(`${olla.url}/internal/stats/endpoints`)).json()) as {
      endpoints: { requests: number }[];
    };
    expect(endpoints.endpoints.every((endpoint) => endpoint.requests === 0)).toBe(true);
    const metrics = await (await fetch(`${olla.url}/internal/metrics`)).text();
    expect(metrics).not.toContain("olla_requests_total{");
    await until(
      () => olla.logs.some((line) => line.msg === "request" && line.path === "/olla/api/chat"),
      2000,
      "the access line",
    );
  });
});

test("server.request_logging: false writes no access line (statistics still count)", async () => {
  await withServerSetting("request_logging: false", async (olla) => {
    const chat = await fetch(`${olla.url}/olla/api/chat`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(chat.status).toBe(200);
    await chat.arrayBuffer();
    // The request is over once the statistics have it; its line would be written in the same pass.
    await until(
      async () => {
        const body = (await (await fetch(`${olla.url}/internal/stats/endpoints`)).json()) as {
          endpoints: { requests: number }[];
        };
        return body.endpoints.some((endpoint) => endpoint.requests === 1);
      },
      2000,
      "the request in the statistics",
    );
    // The test app's logger hands each line on as it ends (no batch window): a line would be here by now.
    await Bun.sleep(100);
    expect(olla.logs.some((line) => line.msg === "request")).toBe(false);
  });
});
