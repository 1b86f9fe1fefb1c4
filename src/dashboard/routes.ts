// /internal/ui/: the embedded admin page (one HTML file with its script and style, served from the
// binary), open to the networks and Host names of dashboard.access_policy only.

import { errorResponse } from "../http/errors.ts";
import type { Route } from "../http/router.ts";
import { parseIp } from "../limits/index.ts";
import page from "./index.html" with { type: "text" };

export interface DashboardOptions {
  /** dashboard.access_policy.allowed_cidrs, compiled: client networks that may open the page. */
  allowedIp: (address: string | undefined) => boolean;
  /** dashboard.access_policy.allowed_hosts: Host names (port stripped) the page answers to besides IP
   * literals. Guards against DNS rebinding: a page on another name cannot read ours. */
  allowedHosts: readonly string[];
}

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-cache",
  // Everything is inline and same-origin; nothing may frame the page.
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

function hostName(host: string | null): string {
  if (!host) return "";
  if (host.startsWith("[")) return host.slice(0, host.indexOf("]") + 1).toLowerCase();
  const colon = host.lastIndexOf(":");
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase();
}

export function dashboardRoutes(options: DashboardOptions): Route[] {
  const { allowedIp } = options;
  const hosts = new Set(options.allowedHosts.map((host) => host.toLowerCase()));
  // bun-types declares *.html imports as HTML bundles; imported `with { type: "text" }` it is a string.
  const body = new TextEncoder().encode(page as unknown as string);

  const refuse = (reason: string, ip: string | undefined, host: string) =>
    errorResponse(
      "openai",
      403,
      `forbidden: ${reason} (ip=${ip ?? "unknown"}, host=${host || "none"}). Adjust dashboard.access_policy to allow it.`,
      { code: "forbidden" },
    );

  const handler: Route["handler"] = (request, context) => {
    // The TCP peer, never a forwarded header: the dashboard is for the machine's own network.
    const ip = context.record.peer;
    const host = hostName(request.headers.get("host"));
    if (!allowedIp(ip)) return refuse("client address not in allowed_cidrs", ip, host);
    const literal = parseIp(host.replace(/^\[|\]$/g, "")) !== undefined;
    if (!literal && !hosts.has(host)) return refuse("host name not in allowed_hosts", ip, host);
    if (context.record.path === "/internal/ui") {
      return new Response(null, { status: 308, headers: { location: "/internal/ui/" } });
    }
    // One page for the whole subtree: deep links (#/models) and reloads land on it.
    return new Response(body, { headers: HEADERS });
  };

  return [
    { methods: ["GET"], path: "/internal/ui", handler },
    { methods: ["GET"], path: "/internal/ui/", prefix: true, handler },
  ];
}
