// Prometheus metrics (text exposition format 0.0.4) for GET /internal/metrics. Labels stay low in
// cardinality: endpoint, model, status class, route family; past a cap, new models count as "other".

import { createHistogram, type Histogram, observe } from "./histogram.ts";

/** Health probes are short: finer buckets than request latency. */
const PROBE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

export interface RequestSample {
  endpoint: string;
  model: string;
  status: number;
  family: string;
  durationMs: number;
  ttftMs?: number;
  usage?: { input: number; output: number };
}

export interface Gauges {
  /** `models`: how many the endpoint listed at its last discovery. */
  endpoints: { name: string; up: boolean; inFlight: number; priority: number; models: number }[];
  /** olla_info's labels (version, commit, engine, balancer), the time since start, and the fleet's
   * status as /internal/status gives it. */
  system?: {
    info: Record<string, string>;
    uptimeSeconds: number;
    status: "healthy" | "degraded" | "critical";
  };
  /** Extra gauge families: name → help, and samples as [labels, value]. */
  extra?: { name: string; help: string; samples: [Record<string, string>, number][] }[];
}

export interface Metrics {
  request(sample: RequestSample): void;
  rateLimited(scope: string): void;
  healthCheck(endpoint: string, seconds: number): void;
  render(gauges: Gauges): string;
}

type Labels = Record<string, string>;

/** Counters or histograms keyed by their label set. */
interface Family<T> {
  series: Map<string, { labels: Labels; value: T }>;
}

const escape = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([name, value]) => `${name}="${escape(value)}"`);
  if (extra) parts.push(`${extra[0]}="${escape(extra[1])}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

const number = (value: number) =>
  Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";

export function statusClass(status: number): string {
  return status === 499 ? "client_closed" : `${Math.floor(status / 100)}xx`;
}

export function createMetrics(options: { maxSeries: number } = { maxSeries: 5000 }): Metrics {
  const requests: Family<number> = { series: new Map() };
  const durations: Family<Histogram> = { series: new Map() };
  const ttft: Family<Histogram> = { series: new Map() };
  const tokens: Family<number> = { series: new Map() };
  const probes: Family<Histogram> = { series: new Map() };
  const limited: Family<number> = { series: new Map() };

  /** The entry for a label set; past the cap a new set has its model folded into "other". */
  function entry<T>(family: Family<T>, labels: Labels, make: () => T) {
    let key = Object.values(labels).join("\u0000");
    let found = family.series.get(key);
    if (found) return found;
    if (family.series.size >= options.maxSeries && "model" in labels) {
      labels = { ...labels, model: "other" };
      key = Object.values(labels).join("\u0000");
      found = family.series.get(key);
      if (found) return found;
    }
    found = { labels, value: make() };
    family.series.set(key, found);
    return found;
  }
  const count = (family: Family<number>, labels: Labels, by = 1) => {
    entry(family, labels, () => 0).value += by;
  };

  function counterLines(name: string, help: string, family: Family<number>): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} counter`];
    for (const { labels, value } of family.series.values())
      lines.push(`${name}${labelText(labels)} ${value}`);
    return lines;
  }

  function histogramLines(name: string, help: string, family: Family<Histogram>): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    for (const { labels, value } of family.series.values()) {
      let cumulative = 0;
      value.bounds.forEach((bound, index) => {
        cumulative += value.counts[index]!;
        lines.push(`${name}_bucket${labelText(labels, ["le", String(bound)])} ${cumulative}`);
      });
      lines.push(`${name}_bucket${labelText(labels, ["le", "+Inf"])} ${value.count}`);
      lines.push(`${name}_sum${labelText(labels)} ${number(value.sum)}`);
      lines.push(`${name}_count${labelText(labels)} ${value.count}`);
    }
    return lines;
  }

  /** Per (endpoint, model, family): the series one request touches, found with one Map lookup. */
  interface Bundle {
    byClass: Map<string, { value: number }>;
    duration: Histogram;
    ttft: Histogram;
    tokensIn: { value: number };
    tokensOut: { value: number };
  }
  // endpoint → model → family: three lookups and no key string made per request.
  const bundles = new Map<string, Map<string, Map<string, Bundle>>>();
  let bundleCount = 0;
  const bundleFor = (endpoint: string, model: string, family: string): Bundle => {
    const byFamily = bundles.get(endpoint)?.get(model);
    let bundle = byFamily?.get(family);
    if (bundle) return bundle;
    bundle = {
      byClass: new Map(),
      duration: entry(durations, { endpoint, family }, () => createHistogram()).value,
      ttft: entry(ttft, { endpoint, model }, () => createHistogram()).value,
      tokensIn: entry(tokens, { endpoint, model, direction: "input" }, () => 0),
      tokensOut: entry(tokens, { endpoint, model, direction: "output" }, () => 0),
    };
    // Bundles follow the series cap: past it, one bundle per new name would grow without bound.
    if (bundleCount < options.maxSeries) {
      bundleCount++;
      let byModel = bundles.get(endpoint);
      if (!byModel) bundles.set(endpoint, (byModel = new Map()));
      let families = byModel.get(model);
      if (!families) byModel.set(model, (families = new Map()));
      families.set(family, bundle);
    }
    return bundle;
  };

  return {
    request(sample) {
      const { endpoint, model, family } = sample;
      const bundle = bundleFor(endpoint, model, family);
      const status = statusClass(sample.status);
      let counter = bundle.byClass.get(status);
      if (!counter) {
        counter = entry(requests, { endpoint, model, status_class: status, family }, () => 0);
        bundle.byClass.set(status, counter);
      }
      counter.value++;
      observe(bundle.duration, sample.durationMs / 1000);
      if (sample.ttftMs !== undefined) observe(bundle.ttft, sample.ttftMs / 1000);
      if (sample.usage) {
        bundle.tokensIn.value += sample.usage.input;
        bundle.tokensOut.value += sample.usage.output;
      }
    },
    rateLimited(scope) {
      count(limited, { scope });
    },
    healthCheck(endpoint, seconds) {
      observe(entry(probes, { endpoint }, () => createHistogram(PROBE_BUCKETS)).value, seconds);
    },
    render(gauges) {
      const memory = process.memoryUsage();
      const cpu = process.cpuUsage();
      const lines = [
        ...counterLines(
          "olla_requests_total",
          "Requests answered, by endpoint, model, status class and route family.",
          requests,
        ),
        ...histogramLines(
          "olla_request_duration_seconds",
          "Request duration, arrival to the last byte.",
          durations,
        ),
        ...histogramLines(
          "olla_time_to_first_token_seconds",
          "Streamed answers: arrival to the first body byte.",
          ttft,
        ),
        ...counterLines(
          "olla_tokens_total",
          "Tokens reported by the endpoints' answers (input: prompt, output: generated).",
          tokens,
        ),
        "# HELP olla_endpoint_up 1 when the endpoint is routable (healthy or busy), else 0.",
        "# TYPE olla_endpoint_up gauge",
        ...gauges.endpoints.map((e) => `olla_endpoint_up${labelText({ endpoint: e.name })} ${e.up ? 1 : 0}`),
        "# HELP olla_endpoint_in_flight Requests in flight to the endpoint.",
        "# TYPE olla_endpoint_in_flight gauge",
        ...gauges.endpoints.map(
          (e) => `olla_endpoint_in_flight${labelText({ endpoint: e.name })} ${e.inFlight}`,
        ),
        ...histogramLines("olla_endpoint_health_check_duration_seconds", "Health probe duration.", probes),
        ...counterLines(
          "olla_rate_limited_total",
          "Requests refused with 429, by the limit that refused them.",
          limited,
        ),
      ];
      lines.push(...ollaGauges(gauges));
      for (const extra of gauges.extra ?? [])
        lines.push(...gaugeLines(extra.name, extra.help, extra.samples));
      lines.push(
        "# HELP process_resident_memory_bytes Resident memory size in bytes.",
        "# TYPE process_resident_memory_bytes gauge",
        `process_resident_memory_bytes ${memory.rss}`,
        "# HELP process_heap_bytes JavaScript heap in use, in bytes.",
        "# TYPE process_heap_bytes gauge",
        `process_heap_bytes ${memory.heapUsed}`,
        "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`,
        "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.",
        "# TYPE process_start_time_seconds gauge",
        `process_start_time_seconds ${Math.round(Date.now() / 1000 - process.uptime())}`,
      );
      return `${lines.join("\n")}\n`;
    },
  };
}

function gaugeLines(name: string, help: string, samples: readonly [Labels, number][]): string[] {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
  for (const [labels, value] of samples) lines.push(`${name}${labelText(labels)} ${number(value)}`);
  return lines;
}

const SYSTEM_STATUS = { healthy: 2, degraded: 1, critical: 0 } as const;

/** The gauge families Olla's own /internal/metrics has, so its dashboards find them here too. */
function ollaGauges({ endpoints, system }: Gauges): string[] {
  const up = endpoints.filter((endpoint) => endpoint.up).length;
  const perEndpoint = (value: (endpoint: Gauges["endpoints"][number]) => number) =>
    endpoints.map((endpoint): [Labels, number] => [{ endpoint: endpoint.name }, value(endpoint)]);
  return [
    ...(system
      ? [
          ...gaugeLines("olla_info", "Build and settings, as labels (always 1).", [[system.info, 1]]),
          ...gaugeLines("olla_uptime_seconds", "Seconds since olla started.", [[{}, system.uptimeSeconds]]),
          ...gaugeLines(
            "olla_system_status",
            "The fleet's status in /internal/status: 2 healthy, 1 degraded, 0 critical.",
            [[{}, SYSTEM_STATUS[system.status]]],
          ),
        ]
      : []),
    ...gaugeLines("olla_endpoints_total", "Endpoints configured.", [[{}, endpoints.length]]),
    ...gaugeLines("olla_endpoints_healthy", "Endpoints taking traffic (healthy or busy).", [[{}, up]]),
    ...gaugeLines("olla_active_connections", "Requests in flight to endpoints.", [
      [{}, endpoints.reduce((sum, endpoint) => sum + endpoint.inFlight, 0)],
    ]),
    ...gaugeLines(
      "olla_endpoint_connections",
      "Requests in flight to the endpoint (olla_endpoint_in_flight).",
      perEndpoint((endpoint) => endpoint.inFlight),
    ),
    ...gaugeLines(
      "olla_endpoint_priority",
      "The endpoint's configured priority.",
      perEndpoint((endpoint) => endpoint.priority),
    ),
    ...gaugeLines(
      "olla_endpoint_models_count",
      "Models the endpoint listed at its last discovery.",
      perEndpoint((endpoint) => endpoint.models),
    ),
  ];
}
