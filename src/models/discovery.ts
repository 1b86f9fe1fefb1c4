// Asks every endpoint which models it serves: once before olla listens, then every
// discovery.model_discovery.interval, and at once when an endpoint recovers. A failed ask keeps the
// last good list (a blip must not empty the catalogue) and is retried sooner: retry_attempts times per
// run, after retry_backoff, doubling, never later than the next run.

import {
  type Clock,
  type Endpoint,
  type Fetcher,
  resolveEndpointUrl,
  systemClock,
} from "../endpoints/index.ts";
import type { Logger } from "../log/index.ts";
import { BUILD } from "../version.ts";
import type { DiscoveredModel } from "./model.ts";
import { MODEL_LIST_PARSERS, type ModelListParser, parseOllamaLoaded } from "./parsers.ts";
import { globToRegExp } from "../glob.ts";

export interface EndpointModels {
  models: DiscoveredModel[];
  /** When the list was last fetched successfully. */
  updatedAt?: number;
  /** Why the last attempt failed (the list above is the last good one). */
  error?: string;
  failures: number;
}

export interface ModelDiscoveryOptions {
  endpoints: readonly Endpoint[];
  intervalMs: number;
  timeoutMs: number;
  /** Endpoints asked at once. */
  workers: number;
  /** Retries of a failed ask before the next run (retry_attempts), the first after retryBackoffMs,
   * doubling (retry_backoff). */
  retryAttempts: number;
  retryBackoffMs: number;
  logger: Logger;
  clock?: Clock;
  fetcher?: Fetcher;
  parsers?: Readonly<Record<string, ModelListParser>>;
  /** Only endpoints that take traffic are asked (a down node would only fail). */
  isRoutable: (endpoint: Endpoint) => boolean;
}

export interface ModelDiscovery {
  /** Asks every routable endpoint once, then keeps asking on the interval. */
  start(): Promise<void>;
  stop(): void;
  /** Asks one endpoint now (e.g. it just recovered). */
  refresh(endpoint: Endpoint): Promise<void>;
  modelsOf(endpoint: Endpoint): EndpointModels;
}

const HEADERS = { "user-agent": `olla-Discovery/${BUILD.version}`, accept: "application/json" };

/** Applies an endpoint's model_filter: include (empty keeps all), then exclude. */
export function filterModels(models: DiscoveredModel[], filter: Endpoint["modelFilter"]): DiscoveredModel[] {
  const include = filter.include.map(globToRegExp);
  const exclude = filter.exclude.map(globToRegExp);
  return models.filter(
    (model) =>
      (include.length === 0 || include.some((pattern) => pattern.test(model.name))) &&
      !exclude.some((pattern) => pattern.test(model.name)),
  );
}

export function createModelDiscovery(options: ModelDiscoveryOptions): ModelDiscovery {
  const clock = options.clock ?? systemClock;
  const fetcher: Fetcher = options.fetcher ?? ((url, init) => fetch(url, init));
  const parsers = options.parsers ?? MODEL_LIST_PARSERS;
  const state = new Map<Endpoint, EndpointModels>();
  const inProgress = new Map<Endpoint, Promise<void>>();
  const retries = new Map<Endpoint, unknown>();
  /** Retries made since the endpoint's run began (a scheduled pass, a recovery, a caller's refresh). */
  const retried = new Map<Endpoint, number>();
  let timer: unknown;
  let stopped = true;

  const modelsOf = (endpoint: Endpoint): EndpointModels => {
    let entry = state.get(endpoint);
    if (!entry) {
      entry = { models: [], failures: 0 };
      state.set(endpoint, entry);
    }
    return entry;
  };

  const getJson = async (endpoint: Endpoint, url: URL): Promise<unknown> => {
    const headers = new Headers(HEADERS);
    for (const [name, value] of endpoint.headers) headers.set(name, value);
    const response = await fetcher(url, {
      headers,
      signal: AbortSignal.timeout(options.timeoutMs),
      redirect: "manual",
      proxy: false,
    } as RequestInit);
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status} from ${url.pathname}`);
    }
    return response.json();
  };

  const ask = async (endpoint: Endpoint) => {
    const entry = modelsOf(endpoint);
    const retry = retries.get(endpoint);
    if (retry !== undefined) clock.clearTimeout(retry);
    retries.delete(endpoint);
    try {
      const parse = parsers[endpoint.profile.modelListFormat] ?? parsers.openai;
      if (!parse) throw new Error(`no parser for ${endpoint.profile.modelListFormat} model lists`);
      let models = parse(await getJson(endpoint, endpoint.modelUrl));
      if (endpoint.profile.modelListFormat === "ollama") {
        // Which models sit in memory: a cold load costs seconds, so routing prefers loaded ones.
        const loaded = await getJson(endpoint, resolveEndpointUrl(endpoint.url, "/api/ps"))
          .then(parseOllamaLoaded)
          .catch(() => undefined);
        if (loaded) models = models.map((model) => ({ ...model, loaded: loaded.has(model.name) }));
      }
      const before = entry.models.length;
      entry.models = filterModels(models, endpoint.modelFilter);
      entry.updatedAt = clock.now();
      entry.error = undefined;
      entry.failures = 0;
      if (before !== entry.models.length) {
        options.logger.info("models discovered", { endpoint: endpoint.name, count: entry.models.length });
      }
    } catch (error) {
      entry.failures++;
      entry.error = (error as Error).message;
      if (entry.failures === 1) {
        options.logger.warn("model discovery failed; keeping the last list", {
          endpoint: endpoint.name,
          error: entry.error,
          kept: entry.models.length,
        });
      }
      const used = retried.get(endpoint) ?? 0;
      if (!stopped && used < options.retryAttempts) {
        retried.set(endpoint, used + 1);
        const wait = Math.min(options.intervalMs, options.retryBackoffMs * 2 ** used);
        retries.set(
          endpoint,
          clock.setTimeout(() => void attempt(endpoint), wait),
        );
      }
    }
  };

  /** A new run for the endpoint: its retries start again. */
  function refresh(endpoint: Endpoint): Promise<void> {
    retried.delete(endpoint);
    return attempt(endpoint);
  }

  function attempt(endpoint: Endpoint): Promise<void> {
    const running = inProgress.get(endpoint);
    if (running) return running;
    const pass = ask(endpoint).finally(() => inProgress.delete(endpoint));
    inProgress.set(endpoint, pass);
    return pass;
  }

  /** One pass over the routable endpoints, `workers` at a time. */
  const pass = async () => {
    const queue = options.endpoints.filter(options.isRoutable);
    const worker = async () => {
      for (let endpoint = queue.shift(); endpoint; endpoint = queue.shift()) await refresh(endpoint);
    };
    await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
  };

  const schedule = () => {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      void pass().finally(schedule);
    }, options.intervalMs);
  };

  return {
    async start() {
      stopped = false;
      await pass();
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      for (const retry of retries.values()) clock.clearTimeout(retry);
      retries.clear();
    },
    refresh,
    modelsOf,
  };
}
