// An inference server olla balances across: its fixed settings from config plus its live state.

import type { EndpointConfig } from "../config/index.ts";
import { type PlatformProfile, profileFor } from "../profiles/profile.ts";
import { type CircuitBreaker, createCircuitBreaker } from "./circuit-breaker.ts";
import { type Clock, systemClock } from "./clock.ts";

export type EndpointStatus =
  "unknown" | "healthy" | "busy" | "unhealthy" | "offline" | "config_error" | "rate_limited";

/** States that take traffic; busy ones at a lower weight. */
export const ROUTABLE_STATUSES: ReadonlySet<EndpointStatus> = new Set(["healthy", "busy"]);

export interface Endpoint {
  readonly name: string;
  readonly url: URL;
  /** The type as configured (e.g. "ollama", "lmstudio", "auto"); sent as X-Olla-Backend-Type. */
  readonly type: string;
  /** The platform: from the configured type, or found by probing for `type: auto`. */
  profile: PlatformProfile;
  readonly priority: number;
  readonly weight: number;
  readonly preservePath: boolean;
  healthUrl: URL;
  modelUrl: URL;
  /** health_check_url / model_url as configured; when absent they follow the profile. */
  readonly configuredPaths: { health?: string; models?: string };
  readonly checkIntervalMs: number;
  readonly checkTimeoutMs: number;
  /** Configured headers plus the auth header, sent on every request to this endpoint. */
  readonly headers: readonly (readonly [string, string])[];
  /** Lower-cased names of those headers (so the client's values for them are not forwarded). */
  readonly ownHeaderNames: ReadonlySet<string>;
  /** True when auth: is configured (the client's credentials are then never forwarded). */
  readonly hasAuth: boolean;

  status: EndpointStatus;
  /** Requests being served now, counted until a stream's last byte. */
  inFlight: number;
  consecutiveFailures: number;
  lastError?: string;
  lastCheckAt?: number;
  lastLatencyMs?: number;
  nextCheckAt?: number;
  /** Backoff multiplier of the probe interval; 1 when healthy. */
  backoff: number;
  /** Opens after consecutive failed proxy attempts, even while health probes pass. */
  readonly breaker: CircuitBreaker;
  /** Short stable id from the URL (Olla's scheme), for status pages. */
  readonly id: string;
  /** Globs on model names: which discovered models this endpoint offers. */
  readonly modelFilter: { readonly include: readonly string[]; readonly exclude: readonly string[] };
  /** Proxied requests that got an answer or failed, since start; the response times (to the answer's
   * head) of those answered, smallest and largest (Infinity and 0 before the first); bytes answered. */
  traffic: {
    requests: number;
    failures: number;
    responseTimeTotalMs: number;
    responseTimeMinMs: number;
    responseTimeMaxMs: number;
    bytesOut: number;
  };
}

/** FNV-1a (32-bit) of scheme, host, port and path, in base 36: the same id Olla shows. */
export function endpointId(url: URL): string {
  const text = `${url.protocol}//${url.host}${url.pathname}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

export interface BreakerSettings {
  failureThreshold: number;
  openMs: number;
}

/** Olla (Go)'s fixed figures, here the defaults of proxy.circuit_breaker. */
const DEFAULT_BREAKER: BreakerSettings = { failureThreshold: 5, openMs: 30_000 };

/** Joins a path or absolute URL onto the endpoint's URL, keeping its base path (Olla's rule). */
export function resolveEndpointUrl(base: URL, pathOrUrl: string): URL {
  if (/^https?:\/\//i.test(pathOrUrl)) return new URL(pathOrUrl);
  const joined = new URL(base);
  const basePath = base.pathname.replace(/\/+$/, "");
  const [path, query] = pathOrUrl.split("?", 2) as [string, string | undefined];
  joined.pathname = `${basePath}/${path.replace(/^\/+/, "")}`;
  joined.search = query ? `?${query}` : "";
  return joined;
}

function authHeader(auth: EndpointConfig["auth"]): [string, string] | undefined {
  if (!auth) return undefined;
  switch (auth.type) {
    case "bearer":
      return ["authorization", `Bearer ${auth.token}`];
    case "api_key":
      return [auth.header.toLowerCase(), auth.key as string];
    case "basic":
      return [
        "authorization",
        `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`,
      ];
  }
}

/** Builds an endpoint from its (validated, secrets resolved) config entry. */
export function createEndpoint(
  config: EndpointConfig,
  profiles: readonly PlatformProfile[],
  breaker: BreakerSettings = DEFAULT_BREAKER,
  clock: Clock = systemClock,
): Endpoint {
  const url = new URL(config.url);
  const profile = profileFor(config.type, profiles);
  const headers: [string, string][] = Object.entries(config.headers).map(([name, value]) => [
    name.toLowerCase(),
    value,
  ]);
  const auth = authHeader(config.auth);
  if (auth) headers.push(auth);
  return {
    name: config.name ?? url.host,
    url,
    type: config.type,
    profile,
    priority: config.priority,
    weight: config.weight,
    preservePath: config.preserve_path,
    healthUrl: resolveEndpointUrl(url, config.health_check_url ?? profile.healthPath),
    modelUrl: resolveEndpointUrl(url, config.model_url ?? profile.modelsPath),
    configuredPaths: { health: config.health_check_url, models: config.model_url },
    checkIntervalMs: config.check_interval,
    checkTimeoutMs: config.check_timeout,
    headers,
    ownHeaderNames: new Set(headers.map(([name]) => name)),
    hasAuth: auth !== undefined,
    status: "unknown",
    inFlight: 0,
    consecutiveFailures: 0,
    backoff: 1,
    breaker: createCircuitBreaker({ ...breaker, clock }),
    id: endpointId(url),
    modelFilter: config.model_filter,
    traffic: {
      requests: 0,
      failures: 0,
      responseTimeTotalMs: 0,
      responseTimeMinMs: Number.POSITIVE_INFINITY,
      responseTimeMaxMs: 0,
      bytesOut: 0,
    },
  };
}

/** Settles an endpoint on a platform (after `type: auto` detection); unset probe paths follow it. */
export function applyProfile(endpoint: Endpoint, profile: PlatformProfile): void {
  endpoint.profile = profile;
  endpoint.healthUrl = resolveEndpointUrl(
    endpoint.url,
    endpoint.configuredPaths.health ?? profile.healthPath,
  );
  endpoint.modelUrl = resolveEndpointUrl(endpoint.url, endpoint.configuredPaths.models ?? profile.modelsPath);
}

/** Takes traffic: healthy or busy by its probes, and its circuit breaker lets a request through. */
export function isRoutable(endpoint: Endpoint): boolean {
  return ROUTABLE_STATUSES.has(endpoint.status) && endpoint.breaker.canTry();
}
