// Per endpoint and per model request statistics: counts, failures by cause, bytes, latency and
// time-to-first-token histograms, token usage. Memory is bounded: a cap on tracked models and idle
// model entries pruned; endpoints are few and fixed.

import { createHistogram, type Histogram, observe, quantile } from "./histogram.ts";
import type { TokenUsage } from "./usage.ts";

/** One finished proxied request, as the proxy saw it (the request record itself fits: no copy). */
export interface RequestOutcome {
  /** The model asked for, if the body named one. */
  model?: string;
  /** HTTP status sent to the client (499: the client went away). */
  status: number;
  /** Why it failed, when it did: upstream_error, timeout, client_gone, mid_stream, http_5xx, http_4xx. */
  failure?: string;
  bytesIn: number;
  bytesOut: number;
  /** Streams only: request arrival to first body byte. */
  ttftMs?: number;
  /** Undefined when the answer carried no usage (counted as unknown, never as zero). */
  usage?: TokenUsage;
  /** Time the body took after its first byte (for tokens per second when the server gives none). */
  streamMs?: number;
}

export interface Tally {
  requests: number;
  successes: number;
  failures: Record<string, number>;
  inFlight: number;
  bytesIn: number;
  bytesOut: number;
  latency: Histogram;
  ttft: Histogram;
  tokensIn: number;
  tokensOut: number;
  /** Answers with usage / without it. */
  usageKnown: number;
  usageUnknown: number;
  /** Output tokens and the generation seconds they took, for tokens per second. */
  rateTokens: number;
  rateSeconds: number;
  lastSeen: number;
}

function createTally(now: number): Tally {
  return {
    requests: 0,
    successes: 0,
    failures: {},
    inFlight: 0,
    bytesIn: 0,
    bytesOut: 0,
    latency: createHistogram(),
    ttft: createHistogram(),
    tokensIn: 0,
    tokensOut: 0,
    usageKnown: 0,
    usageUnknown: 0,
    rateTokens: 0,
    rateSeconds: 0,
    lastSeen: now,
  };
}

/** Shorter generation windows are left out of tokens per second (they are delivery, not generation). */
const MIN_RATE_WINDOW_S = 0.02;

function countFailure(tally: Tally, failure: string, now: number): void {
  tally.requests++;
  tally.lastSeen = now;
  tally.failures[failure] = (tally.failures[failure] ?? 0) + 1;
}

function add(tally: Tally, outcome: RequestOutcome, durationMs: number, now: number): void {
  if (outcome.failure === undefined) {
    tally.requests++;
    tally.lastSeen = now;
    tally.successes++;
  } else countFailure(tally, outcome.failure, now);
  tally.bytesIn += outcome.bytesIn;
  tally.bytesOut += outcome.bytesOut;
  observe(tally.latency, durationMs / 1000);
  if (outcome.ttftMs !== undefined) observe(tally.ttft, outcome.ttftMs / 1000);
  const usage = outcome.usage;
  if (usage === undefined) {
    if (outcome.failure === undefined) tally.usageUnknown++;
    return;
  }
  tally.usageKnown++;
  tally.tokensIn += usage.input;
  tally.tokensOut += usage.output;
  const seconds = (usage.generationMs ?? outcome.streamMs ?? 0) / 1000;
  // A stream that arrived in one read says nothing about generation speed.
  if (usage.output > 0 && seconds >= MIN_RATE_WINDOW_S) {
    tally.rateTokens += usage.output;
    tally.rateSeconds += seconds;
  }
}

export interface StatsOptions {
  /** Most models tracked at once; the least recently seen goes first. */
  maxModels: number;
  /** Model entries unseen this long are dropped by prune(). */
  modelIdleMs: number;
  now?: () => number;
}

export interface RequestStats {
  /** A request went to `endpoint`: in flight for its model (and the model on that endpoint) until finish. */
  start(endpoint: string, model: string | undefined): void;
  /** The request `start`ed on `endpoint` is over, after durationMs. */
  finish(endpoint: string, outcome: RequestOutcome, durationMs: number): void;
  /** The request `start`ed on `endpoint` failed there and was sent on to another (failover): a failure
   * of that endpoint (and of the model on it), not another request for the model. */
  failedOver(endpoint: string, model: string | undefined, failure: string): void;
  /** A request that never reached an endpoint (bad input, no endpoint, rate limited). */
  rejected(model: string | undefined, failure: string): void;
  prune(): void;
  endpoint(name: string): Tally | undefined;
  model(name: string): Tally | undefined;
  endpoints(): ReadonlyMap<string, Tally>;
  models(): ReadonlyMap<string, { total: Tally; byEndpoint: Map<string, Tally> }>;
}

export function createRequestStats(options: StatsOptions): RequestStats {
  const now = options.now ?? Date.now;
  const endpoints = new Map<string, Tally>();
  const models = new Map<string, { total: Tally; byEndpoint: Map<string, Tally> }>();

  const endpointTally = (name: string) => {
    let tally = endpoints.get(name);
    if (!tally) endpoints.set(name, (tally = createTally(now())));
    return tally;
  };
  // The model used last: asked for again (the common case), the recency order is already right.
  let newest: string | undefined;
  const modelEntry = (name: string) => {
    let entry = models.get(name);
    if (entry) {
      // Map order is recency order: re-insert on use so eviction takes the least recent.
      if (name !== newest) {
        models.delete(name);
        models.set(name, entry);
        newest = name;
      }
      return entry;
    }
    newest = name;
    if (models.size >= options.maxModels) models.delete(models.keys().next().value!);
    entry = { total: createTally(now()), byEndpoint: new Map() };
    models.set(name, entry);
    return entry;
  };
  /** The model's tally on one endpoint (no pair object per request: the entry comes from modelEntry). */
  const endpointOf = (entry: { byEndpoint: Map<string, Tally> }, endpoint: string) => {
    let tally = entry.byEndpoint.get(endpoint);
    if (!tally) entry.byEndpoint.set(endpoint, (tally = createTally(now())));
    return tally;
  };
  /** A request of the model on the endpoint is over: it leaves both in-flight counts. */
  const leave = (entry: { total: Tally }, tally: Tally) => {
    entry.total.inFlight = Math.max(0, entry.total.inFlight - 1);
    tally.inFlight = Math.max(0, tally.inFlight - 1);
  };

  return {
    start(endpoint, model) {
      // Per endpoint alone, in flight is the router's count (Endpoint.inFlight); per model it is kept here.
      if (model === undefined) return;
      const entry = modelEntry(model);
      const tally = endpointOf(entry, endpoint);
      entry.total.inFlight++;
      tally.inFlight++;
    },
    finish(name, outcome, durationMs) {
      const at = now();
      add(endpointTally(name), outcome, durationMs, at);
      if (outcome.model === undefined) return;
      const entry = modelEntry(outcome.model);
      const tally = endpointOf(entry, name);
      leave(entry, tally);
      add(entry.total, outcome, durationMs, at);
      add(tally, outcome, durationMs, at);
    },
    failedOver(name, model, failure) {
      const at = now();
      countFailure(endpointTally(name), failure, at);
      if (model === undefined) return;
      const entry = modelEntry(model);
      const tally = endpointOf(entry, name);
      leave(entry, tally);
      countFailure(tally, failure, at);
    },
    rejected(model, failure) {
      if (model === undefined) return;
      countFailure(modelEntry(model).total, failure, now());
    },
    prune() {
      const limit = now() - options.modelIdleMs;
      for (const [name, entry] of models) {
        if (entry.total.inFlight === 0 && entry.total.lastSeen < limit) models.delete(name);
      }
    },
    endpoint: (name) => endpoints.get(name),
    model: (name) => models.get(name)?.total,
    endpoints: () => endpoints,
    models: () => models,
  };
}

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const ms = (seconds: number | null) => (seconds === null ? null : round(seconds * 1000, 1));

/** The JSON shape of one tally for /internal/stats/*. */
export function tallyJson(tally: Tally) {
  const failures = Object.values(tally.failures).reduce((sum, count) => sum + count, 0);
  return {
    requests: tally.requests,
    successes: tally.successes,
    failures,
    failures_by_cause: tally.failures,
    success_rate: tally.requests === 0 ? null : round(tally.successes / tally.requests, 4),
    in_flight: tally.inFlight,
    bytes_in: tally.bytesIn,
    bytes_out: tally.bytesOut,
    latency_ms: {
      p50: ms(quantile(tally.latency, 0.5)),
      p95: ms(quantile(tally.latency, 0.95)),
      p99: ms(quantile(tally.latency, 0.99)),
      avg: tally.latency.count === 0 ? null : round((tally.latency.sum / tally.latency.count) * 1000, 1),
    },
    ttft_ms: {
      p50: ms(quantile(tally.ttft, 0.5)),
      p95: ms(quantile(tally.ttft, 0.95)),
      p99: ms(quantile(tally.ttft, 0.99)),
      count: tally.ttft.count,
    },
    tokens: {
      input: tally.tokensIn,
      output: tally.tokensOut,
      responses_with_usage: tally.usageKnown,
      responses_without_usage: tally.usageUnknown,
      output_per_second: tally.rateSeconds === 0 ? null : round(tally.rateTokens / tally.rateSeconds, 1),
    },
    last_seen: new Date(tally.lastSeen).toISOString(),
  };
}
