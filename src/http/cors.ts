// CORS for browser clients (server.cors): answers preflights and marks allowed answers, so a web
// app on another origin can call olla. Off by default; the X-Olla-* headers are exposed by default.

import { errorResponse } from "./errors.ts";

export interface CorsSettings {
  enabled: boolean;
  allowed_origins: string[];
  allowed_methods: string[];
  allowed_headers: string[];
  exposed_headers: string[];
  allow_credentials: boolean;
  max_age: number;
}

export const OLLA_HEADERS = [
  "X-Olla-Endpoint",
  "X-Olla-Backend-Type",
  "X-Olla-Model",
  "X-Olla-Request-ID",
  "X-Olla-Response-Time",
  "X-Olla-Routing-Strategy",
  "X-Olla-Routing-Decision",
  "X-Olla-Routing-Reason",
  "X-Olla-Mode",
  "X-Olla-Sticky-Session",
  "X-Olla-Sticky-Key-Source",
  "X-Olla-Session-ID",
];

export interface Cors {
  /** The answer to a preflight, or undefined when the request is not one. */
  preflight(request: Request): Response | undefined;
  /** Adds CORS headers to an answer for an allowed origin. */
  decorate(request: Request, response: Response): void;
}

export function createCors(settings: CorsSettings): Cors {
  const anyOrigin = settings.allowed_origins.includes("*");
  const origins = new Set(settings.allowed_origins.map((origin) => origin.toLowerCase()));
  const exposed = (settings.exposed_headers.length ? settings.exposed_headers : OLLA_HEADERS).join(", ");
  const allowOrigin = (origin: string | null): string | undefined => {
    if (!origin) return undefined;
    if (anyOrigin) return settings.allow_credentials ? origin : "*";
    return origins.has(origin.toLowerCase()) ? origin : undefined;
  };
  const common = (headers: Headers, origin: string) => {
    headers.set("access-control-allow-origin", origin);
    if (settings.allow_credentials) headers.set("access-control-allow-credentials", "true");
    headers.append("vary", "Origin");
  };
  return {
    preflight(request) {
      if (request.method !== "OPTIONS" || !request.headers.has("access-control-request-method"))
        return undefined;
      const origin = allowOrigin(request.headers.get("origin"));
      if (!origin) return errorResponse("openai", 403, "origin not allowed by server.cors.allowed_origins");
      const headers = new Headers();
      common(headers, origin);
      headers.set("access-control-allow-methods", settings.allowed_methods.join(", "));
      const requested = request.headers.get("access-control-request-headers");
      const allowHeaders = settings.allowed_headers.includes("*")
        ? (requested ?? "*")
        : settings.allowed_headers.join(", ");
      headers.set("access-control-allow-headers", allowHeaders);
      headers.set("access-control-max-age", String(settings.max_age));
      return new Response(null, { status: 204, headers });
    },
    decorate(request, response) {
      const origin = allowOrigin(request.headers.get("origin"));
      if (!origin) return;
      common(response.headers, origin);
      response.headers.set("access-control-expose-headers", exposed);
    },
  };
}
