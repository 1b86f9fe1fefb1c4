// JSON snapshots of the fleet for /internal/status and /internal/status/endpoints: what each
// endpoint is doing, how its probes and breakers stand, and a one-word verdict for the whole.

import { maskUrl } from "../config/secrets.ts";
import type { SecuritySnapshot } from "../limits/violations.ts";
import { type Endpoint, isRoutable } from "./endpoint.ts";
import type { HealthScheduler } from "./health-scheduler.ts";
import {
  formatBytes,
  formatLatency,
  formatPercent,
  formatUptime,
  timeAgo,
  timeUntil,
} from "./human-format.ts";

const round = (value: number) => Math.round(value * 10) / 10;
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function successRate(endpoint: Endpoint): number | null {
  const { requests, failures } = endpoint.traffic;
  return requests === 0 ? null : round(((requests - failures) / requests) * 100);
}

function avgLatency(endpoint: Endpoint): number | null {
  const { requests, responseTimeTotalMs } = endpoint.traffic;
  return requests === 0 ? null : round(responseTimeTotalMs / requests);
}

/** Smallest and largest response time of the endpoint's answers; null before its first. */
function latencyRange(endpoint: Endpoint) {
  const { responseTimeMinMs, responseTimeMaxMs } = endpoint.traffic;
  const answered = responseTimeMinMs !== Number.POSITIVE_INFINITY;
  return {
    min_latency_ms: answered ? round(responseTimeMinMs) : null,
    max_latency_ms: answered ? round(responseTimeMaxMs) : null,
  };
}

/** Problems worth a glance, as in Olla: unavailable, unstable, low success rate, high latency. */
function issues(endpoint: Endpoint): string[] {
  const found: string[] = [];
  if (!isRoutable(endpoint)) found.push("unavailable");
  if (endpoint.consecutiveFailures > 3) found.push("consecutive failures");
  const rate = successRate(endpoint);
  if (rate !== null && rate < 90 && endpoint.traffic.requests > 10) found.push("low success rate");
  const latency = avgLatency(endpoint);
  if (latency !== null && latency > 5000) found.push("high latency");
  return found;
}

/** Who an endpoint is: the fields both status views start with. */
function identity(endpoint: Endpoint) {
  return {
    id: endpoint.id,
    name: endpoint.name,
    url: maskUrl(endpoint.url.toString()),
    type: endpoint.type,
    platform: endpoint.profile.name,
    status: endpoint.status,
    priority: endpoint.priority,
    weight: endpoint.weight,
  };
}

function byPriority(endpoints: readonly Endpoint[]): Endpoint[] {
  return [...endpoints].sort(
    (a, b) =>
      b.priority - a.priority ||
      Number(isRoutable(b)) - Number(isRoutable(a)) ||
      a.name.localeCompare(b.name),
  );
}

export interface SystemInfo {
  version: string;
  commit: string;
  engine: string;
  loadBalancer: string;
  startedAt: number;
  now: number;
  /** Refusals for rate and size (Olla's `security`); zeros when absent. */
  security?: SecuritySnapshot;
  /** The endpoint's discovered models: how many, and when last listed (epoch ms). */
  modelsOf?: (endpoint: Endpoint) => { count: number; updatedAt?: number };
}

const NO_VIOLATIONS: SecuritySnapshot = {
  status: "normal",
  blocked_ips: 0,
  violations: { rate_limits: 0, size_limits: 0 },
};

/** Olla's proxy.profile: olla passes every chunk on as it arrives, which is Olla's "streaming". */
const PROFILE = "streaming";

/** healthy / degraded / critical from the share of routable endpoints and the success rate (Olla's rule). */
export function fleetVerdict(endpoints: readonly Endpoint[]): "healthy" | "degraded" | "critical" {
  if (endpoints.length === 0) return "critical";
  const ratio = endpoints.filter(isRoutable).length / endpoints.length;
  const requests = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.requests, 0);
  const failures = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.failures, 0);
  const success = requests === 0 ? 100 : ((requests - failures) / requests) * 100;
  if (ratio < 0.5 || success < 90) return "critical";
  if (ratio < 0.8 || success < 95) return "degraded";
  return "healthy";
}

export function statusSnapshot(endpoints: readonly Endpoint[], system: SystemInfo) {
  const requests = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.requests, 0);
  const failures = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.failures, 0);
  const latencyTotal = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.responseTimeTotalMs, 0);
  const avgMs = requests === 0 ? null : latencyTotal / requests;
  const bytesOut = endpoints.reduce((sum, endpoint) => sum + endpoint.traffic.bytesOut, 0);
  const routable = endpoints.filter(isRoutable).length;
  const { now } = system;
  const security = system.security ?? NO_VIOLATIONS;
  return {
    timestamp: new Date(system.now).toISOString(),
    total_endpoints: endpoints.length,
    healthy_endpoints: endpoints.filter((endpoint) => endpoint.status === "healthy").length,
    routable_endpoints: routable,
    proxy: {
      engine: system.engine,
      load_balancer: system.loadBalancer,
      total_requests: requests,
      successful_requests: requests - failures,
      failed_requests: failures,
      avg_latency_ms: avgMs === null ? null : round(avgMs),
      // Olla's names for the same settings.
      balancer: system.loadBalancer,
      profile: PROFILE,
    },
    security,
    endpoints: byPriority(endpoints).map((endpoint) => {
      const models = system.modelsOf?.(endpoint) ?? { count: 0 };
      const avgLatencyMs = avgLatency(endpoint);
      return {
        ...identity(endpoint),
        last_latency_ms: endpoint.lastLatencyMs ?? null,
        consecutive_failures: endpoint.consecutiveFailures,
        in_flight: endpoint.inFlight,
        requests: endpoint.traffic.requests,
        success_rate: successRate(endpoint),
        avg_latency_ms: avgLatencyMs,
        issues: issues(endpoint),
        // Olla's fields, beside olla's own.
        avg_latency: formatLatency(avgLatencyMs ?? 0),
        ...latencyRange(endpoint),
        traffic: formatBytes(endpoint.traffic.bytesOut),
        connections: endpoint.inFlight,
        last_check: timeAgo(endpoint.lastCheckAt, now),
        health_check_at: iso(endpoint.lastCheckAt),
        next_check: timeUntil(endpoint.nextCheckAt, now),
        next_check_at: iso(endpoint.nextCheckAt),
        models: { last_updated: iso(models.updatedAt) ?? null, count: models.count },
      };
    }),
    system: {
      status: fleetVerdict(endpoints),
      endpoints_up: `${routable}/${endpoints.length}`,
      version: system.version,
      commit: system.commit,
      start_time: new Date(system.startedAt).toISOString(),
      uptime_seconds: Math.round((system.now - system.startedAt) / 1000),
      active_connections: endpoints.reduce((sum, endpoint) => sum + endpoint.inFlight, 0),
      total_requests: requests,
      total_failures: failures,
      // Olla's fields, beside olla's own.
      success_rate: requests === 0 ? "N/A" : formatPercent(((requests - failures) / requests) * 100),
      avg_latency: formatLatency(avgMs ?? 0),
      total_traffic: formatBytes(bytesOut),
      uptime: formatUptime(system.now - system.startedAt),
      security_violations: security.violations.rate_limits + security.violations.size_limits,
      has_traffic: requests > 0,
    },
  };
}

export function endpointsSnapshot(
  endpoints: readonly Endpoint[],
  health: HealthScheduler,
  now: number,
  /** More fields per endpoint from other services (e.g. its discovered models). */
  extra: (endpoint: Endpoint) => Record<string, unknown> = () => ({}),
) {
  return {
    timestamp: new Date(now).toISOString(),
    total_count: endpoints.length,
    healthy_count: endpoints.filter((endpoint) => endpoint.status === "healthy").length,
    routable_count: endpoints.filter(isRoutable).length,
    endpoints: byPriority(endpoints).map((endpoint) => {
      const probe = health.lastResult(endpoint);
      const probeBreaker = health.breakerOf(endpoint);
      return {
        ...identity(endpoint),
        health_check_url: maskUrl(endpoint.healthUrl.toString()),
        check_interval_ms: endpoint.checkIntervalMs,
        check_timeout_ms: endpoint.checkTimeoutMs,
        last_check_at: iso(endpoint.lastCheckAt),
        last_check: probe
          ? {
              status: probe.status,
              http_status: probe.httpStatus ?? null,
              latency_ms: probe.latencyMs,
              error: probe.error ?? null,
            }
          : null,
        next_check_at: iso(endpoint.nextCheckAt),
        backoff_multiplier: endpoint.backoff,
        consecutive_failures: endpoint.consecutiveFailures,
        health_breaker: { state: probeBreaker.state, failures: probeBreaker.failures },
        proxy_breaker: { state: endpoint.breaker.state, failures: endpoint.breaker.failures },
        in_flight: endpoint.inFlight,
        request_count: endpoint.traffic.requests,
        success_rate: successRate(endpoint),
        avg_latency_ms: avgLatency(endpoint),
        issues: issues(endpoint),
        // Olla's fields, beside olla's own.
        active_connections: endpoint.inFlight,
        ...latencyRange(endpoint),
        health_check: timeAgo(endpoint.lastCheckAt, now),
        health_check_at: iso(endpoint.lastCheckAt),
        response_time:
          endpoint.lastLatencyMs === undefined ? undefined : formatLatency(endpoint.lastLatencyMs),
        ...extra(endpoint),
      };
    }),
  };
}
