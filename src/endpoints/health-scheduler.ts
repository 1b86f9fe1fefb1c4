// Keeps every endpoint's status current: a timer per endpoint at its own check_interval, backoff
// on failure (doubling up to a cap), passive failures from the proxy, transitions logged once.

import type { Logger } from "../log/index.ts";
import { type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type Endpoint, ROUTABLE_STATUSES } from "./endpoint.ts";
import type { ProbeResult } from "./health-probe.ts";

export interface HealthSchedulerOptions {
  endpoints: readonly Endpoint[];
  probe: (endpoint: Endpoint) => Promise<ProbeResult>;
  logger: Logger;
  clock?: Clock;
  /** Longest wait between probes of a failing endpoint. */
  backoffCapMs?: number;
  /** Probes running at once. */
  maxConcurrent?: number;
  /** Consecutive failed probes that pause probing for breakerOpenMs (0 = never). */
  breakerThreshold?: number;
  breakerOpenMs?: number;
  /** Called when an endpoint becomes routable again (e.g. to re-discover its models). */
  onRecovered?: (endpoint: Endpoint) => void;
  /** Called when an endpoint that took traffic leaves rotation (e.g. to drop sticky-session pins to it). */
  onDown?: (endpoint: Endpoint) => void;
}

export interface HealthScheduler {
  /** Probes every endpoint once (before the listener opens), then keeps probing on timers. */
  start(): Promise<void>;
  stop(): void;
  /** Probe now, outside the schedule. */
  checkNow(endpoint: Endpoint): Promise<ProbeResult>;
  /** A connection failure seen by the proxy: out of rotation at once, re-probed soon. */
  reportFailure(endpoint: Endpoint, reason: string): void;
  /** The endpoint's probe circuit breaker, for status pages. */
  breakerOf(endpoint: Endpoint): CircuitBreaker;
  /** The last probe's outcome, for status pages. */
  lastResult(endpoint: Endpoint): ProbeResult | undefined;
}

/** A passive failure is re-probed after this, so a blip does not keep a node out for long. */
const QUICK_REPROBE_MS = 1000;

export function createHealthScheduler(options: HealthSchedulerOptions): HealthScheduler {
  const clock = options.clock ?? systemClock;
  const cap = options.backoffCapMs ?? 60_000;
  const maxConcurrent = options.maxConcurrent ?? 4;
  const timers = new Map<Endpoint, unknown>();
  const breakers = new Map<Endpoint, CircuitBreaker>();
  const results = new Map<Endpoint, ProbeResult>();
  const breakerOf = (endpoint: Endpoint) => {
    let breaker = breakers.get(endpoint);
    if (!breaker) {
      breaker = createCircuitBreaker({
        failureThreshold: options.breakerThreshold ?? 3,
        openMs: options.breakerOpenMs ?? 30_000,
        clock,
      });
      breakers.set(endpoint, breaker);
    }
    return breaker;
  };
  const inProgress = new Map<Endpoint, Promise<ProbeResult>>();
  const waiting: (() => void)[] = [];
  let running = 0;
  let stopped = true;

  const acquire = async () => {
    if (running >= maxConcurrent) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };

  const schedule = (endpoint: Endpoint, delayMs: number) => {
    if (stopped) return;
    const existing = timers.get(endpoint);
    if (existing !== undefined) clock.clearTimeout(existing);
    endpoint.nextCheckAt = clock.now() + delayMs;
    timers.set(
      endpoint,
      clock.setTimeout(() => {
        timers.delete(endpoint);
        void checkNow(endpoint);
      }, delayMs),
    );
  };

  const transition = (endpoint: Endpoint, result: Pick<ProbeResult, "status" | "error" | "latencyMs">) => {
    const previous = endpoint.status;
    endpoint.status = result.status;
    endpoint.lastError = result.error;
    if (previous === result.status) return;
    const fields = {
      endpoint: endpoint.name,
      from: previous,
      to: result.status,
      error: result.error,
      latency_ms: result.latencyMs,
    };
    if (result.status === "healthy" || result.status === "busy") {
      options.logger.info("endpoint is up", fields);
      if (previous !== "unknown") options.onRecovered?.(endpoint);
    } else {
      options.logger.warn("endpoint is down", fields);
      if (ROUTABLE_STATUSES.has(previous)) options.onDown?.(endpoint);
    }
  };

  /** Next wait: the interval when healthy; doubling on each failure up to the cap (Olla's formula). */
  const nextDelay = (endpoint: Endpoint, result: ProbeResult) => {
    if (result.status === "healthy") {
      endpoint.backoff = 1;
      endpoint.consecutiveFailures = 0;
      return endpoint.checkIntervalMs;
    }
    endpoint.consecutiveFailures++;
    const wait = Math.min(
      endpoint.checkIntervalMs * endpoint.backoff,
      Math.max(cap, endpoint.checkIntervalMs),
    );
    endpoint.backoff = Math.min(endpoint.backoff * 2, 64);
    if (result.status === "rate_limited" && result.retryAfterMs !== undefined) return result.retryAfterMs;
    return wait;
  };

  /** 401/403/429 say nothing about whether the endpoint is up, so they leave the breaker alone. */
  const NEUTRAL = new Set(["config_error", "rate_limited"]);

  const runProbe = async (endpoint: Endpoint): Promise<ProbeResult> => {
    const breaker = breakerOf(endpoint);
    if (!breaker.begin()) {
      // Open: no request to a node that keeps failing until the cool-down ends.
      return { status: "offline", latencyMs: 0, error: "health circuit breaker open" };
    }
    await acquire();
    let result: ProbeResult;
    try {
      result = await options.probe(endpoint);
    } finally {
      release();
    }
    if (result.status === "healthy" || result.status === "busy") breaker.success();
    else if (NEUTRAL.has(result.status)) breaker.abandon();
    else breaker.failure();
    return result;
  };

  /** While the breaker is open, the next probe waits for the end of its cool-down. */
  const untilBreakerCloses = (endpoint: Endpoint, wait: number) =>
    Math.max(wait, breakerOf(endpoint).retryInMs());

  function checkNow(endpoint: Endpoint): Promise<ProbeResult> {
    const current = inProgress.get(endpoint);
    if (current) return current;
    const probe = runProbe(endpoint).then((result) => {
      inProgress.delete(endpoint);
      results.set(endpoint, result);
      endpoint.lastCheckAt = clock.now();
      endpoint.lastLatencyMs = result.latencyMs;
      transition(endpoint, result);
      schedule(endpoint, untilBreakerCloses(endpoint, nextDelay(endpoint, result)));
      return result;
    });
    inProgress.set(endpoint, probe);
    return probe;
  }

  return {
    async start() {
      stopped = false;
      await Promise.all(options.endpoints.map((endpoint) => checkNow(endpoint)));
    },
    stop() {
      stopped = true;
      for (const timer of timers.values()) clock.clearTimeout(timer);
      timers.clear();
    },
    checkNow,
    breakerOf,
    lastResult: (endpoint) => results.get(endpoint),
    reportFailure(endpoint, reason) {
      if (endpoint.status === "offline") return;
      endpoint.consecutiveFailures++;
      transition(endpoint, { status: "offline", error: reason, latencyMs: 0 });
      schedule(endpoint, Math.min(QUICK_REPROBE_MS, endpoint.checkIntervalMs));
    },
  };
}
