// Guards that run before the route table, in one order on every route: rate limit, then client API key,
// then the /internal/* address policy. /internal/health is never locked (monitors must get through) and
// has its own rate bucket so monitors and users never starve each other.

import type { RateDecision } from "../limits/index.ts";
import { apiFamily, errorResponse } from "./errors.ts";
import type { RouteContext } from "./router.ts";
import type { Guard } from "./server.ts";

/** What the guards need of a rate-limit decision. */
export type RateVerdict = Pick<
  RateDecision,
  "allowed" | "limited" | "deniedBy" | "retryAfterSeconds" | "headers"
>;

export interface GuardOptions {
  /** Rate limits by kind: "proxy" for /olla/ routes, "health" for everything else. */
  rateLimit?: (kind: "proxy" | "health", ip: string) => RateVerdict | Promise<RateVerdict>;
  /** Client API keys (server.auth) for /olla/ routes. */
  apiKeys?: { check(headers: Headers): "ok" | "missing" | "invalid" };
  /** Addresses allowed on /internal/* (dashboard.access_policy with gate_internal_api). */
  internalAllowed?: (ip: string | undefined) => boolean;
  /** Told each time a request is refused with 429: by which limit, and the client's IP. */
  onLimited?: (scope: string, ip: string | undefined) => void;
}

export function createGuard(options: GuardOptions): Guard | undefined {
  const { rateLimit, apiKeys, internalAllowed } = options;
  if (!rateLimit && !apiKeys && !internalAllowed) return undefined;

  type Result = ReturnType<Guard>;

  /** Everything after the rate limit, which may have had to wait for Redis. */
  const rest = (request: Request, context: RouteContext, verdict: RateVerdict | undefined): Result => {
    const path = context.record.path;
    const upstreamRoute = path.startsWith("/olla/");
    const ip = context.record.clientIp ?? "unknown";
    const headers = verdict?.limited ? verdict.headers : undefined;
    if (verdict && !verdict.allowed) {
      options.onLimited?.(verdict.deniedBy ?? "unknown", context.record.clientIp);
      context.record.failure = "rate_limited";
      const scope = verdict.deniedBy === "global" ? "olla as a whole" : "this client";
      return {
        response: errorResponse(
          apiFamily(path),
          429,
          `rate limit exceeded for ${scope}; retry in ${verdict.retryAfterSeconds} s`,
          { code: "rate_limit_exceeded", headers: verdict.headers },
        ),
      };
    }

    if (upstreamRoute && apiKeys) {
      const check = apiKeys.check(request.headers);
      if (check !== "ok") {
        context.record.failure = "unauthorized";
        const message =
          check === "missing"
            ? "an API key is required: send Authorization: Bearer <key> or x-api-key: <key>"
            : "the API key is not valid";
        return {
          response: errorResponse(apiFamily(path), 401, message, {
            code: "invalid_api_key",
            headers: { ...headers, "www-authenticate": 'Bearer realm="olla"' },
          }),
        };
      }
    }

    if (internalAllowed && path.startsWith("/internal/") && path !== "/internal/health") {
      if (!internalAllowed(context.record.clientIp)) {
        context.record.failure = "forbidden";
        return {
          response: errorResponse("openai", 403, `${path} is not open to ${ip}`, {
            code: "forbidden",
            headers,
          }),
        };
      }
    }
    return headers ? { headers } : undefined;
  };

  return (request: Request, context: RouteContext) => {
    if (!rateLimit) return rest(request, context, undefined);
    const kind = context.record.path.startsWith("/olla/") ? "proxy" : "health";
    const verdict = rateLimit(kind, context.record.clientIp ?? "unknown");
    if (verdict instanceof Promise) return restLater(verdict, request, context);
    return rest(request, context, verdict);
  };

  // Its own function: a closure in the guard would give every request a scope object.
  function restLater(verdict: Promise<RateVerdict>, request: Request, context: RouteContext) {
    return verdict.then((settled) => rest(request, context, settled));
  }
}
