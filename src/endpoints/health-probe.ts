// One health probe: GET the endpoint's health URL and classify the answer into a status.

import { BUILD } from "../version.ts";
import type { Endpoint, EndpointStatus } from "./endpoint.ts";

export interface ProbeResult {
  status: Exclude<EndpointStatus, "unknown">;
  latencyMs: number;
  /** HTTP status when the endpoint answered. */
  httpStatus?: number;
  /** Why it is not healthy, for logs and status pages. */
  error?: string;
  /** For rate_limited: when to ask again (from Retry-After). */
  retryAfterMs?: number;
}

export type Fetcher = (url: URL, init: RequestInit) => Promise<Response>;

const PROBE_HEADERS = {
  "user-agent": `olla-HealthChecker/${BUILD.version}`,
  accept: "application/json, text/plain, */*",
  "cache-control": "no-cache",
};

/** Retry-After as seconds or an HTTP date; 30 s when missing or unreadable (as Olla). */
export function retryAfterMs(header: string | null, now: number): number {
  if (header) {
    if (/^\d+$/.test(header.trim())) return Number(header) * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return 30_000;
}

export async function probeEndpoint(
  endpoint: Endpoint,
  fetcher: Fetcher = (url, init) => fetch(url, init),
  now: () => number = Date.now,
): Promise<ProbeResult> {
  const started = performance.now();
  const latency = () => Math.round((performance.now() - started) * 10) / 10;
  const headers = new Headers(PROBE_HEADERS);
  for (const [name, value] of endpoint.headers) headers.set(name, value);
  try {
    const response = await fetcher(endpoint.healthUrl, {
      headers,
      signal: AbortSignal.timeout(endpoint.checkTimeoutMs),
      redirect: "manual",
      proxy: false,
    } as RequestInit);
    await response.body?.cancel();
    const latencyMs = latency();
    const httpStatus = response.status;
    if (httpStatus >= 200 && httpStatus < 300) {
      // Answers, but slowly: still routable, with less weight.
      const slow = latencyMs > endpoint.checkTimeoutMs / 2;
      return { status: slow ? "busy" : "healthy", latencyMs, httpStatus };
    }
    if (httpStatus === 401 || httpStatus === 403) {
      return {
        status: "config_error",
        latencyMs,
        httpStatus,
        error: `HTTP ${httpStatus}: check the endpoint's auth`,
      };
    }
    if (httpStatus === 429) {
      const wait = retryAfterMs(response.headers.get("retry-after"), now());
      return { status: "rate_limited", latencyMs, httpStatus, error: "HTTP 429", retryAfterMs: wait };
    }
    return { status: "unhealthy", latencyMs, httpStatus, error: `HTTP ${httpStatus}` };
  } catch (error) {
    const err = error as Error & { code?: string };
    const timedOut = err.name === "TimeoutError" || err.name === "AbortError";
    const reason = timedOut ? `no answer within ${endpoint.checkTimeoutMs} ms` : (err.code ?? err.message);
    return { status: "offline", latencyMs: latency(), error: reason };
  }
}
