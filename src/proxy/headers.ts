// Header rules both ways. To the endpoint: no hop-by-hop headers, no Host or Origin, no client
// credentials where the endpoint has its own auth, forwarding headers added. Back to the client: no
// cookies or credentials from upstream, no upstream X-Olla-*, and olla's own X-Olla-* headers added.

import type { Endpoint } from "../endpoints/index.ts";
import { BUILD } from "../version.ts";

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "proxy-authorization",
]);

/** Never forwarded: framing is the upstream client's job, Host comes from the URL, Origin makes
 *  Ollama answer 403, cookies are for olla's clients, not its backends. */
const NOT_FORWARDED = new Set(["host", "content-length", "origin", "cookie", "expect"]);

const CLIENT_CREDENTIALS = new Set(["authorization", "x-api-key", "x-auth-token"]);

const UPSTREAM_SECRETS = new Set([
  "set-cookie",
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-auth-token",
  "content-length",
]);

const VIA = `1.1 olla/${BUILD.version}`;

/** Header names listed in Connection are hop-by-hop too (RFC 9110 §7.6.1). */
function connectionNamed(headers: Headers): Set<string> {
  const listed = headers.get("connection");
  if (!listed) return new Set();
  return new Set(
    listed
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Copies every header except hop-by-hop ones (incl. those named in Connection) and those `drop` refuses. */
function copyHeaders(from: Headers, drop: (name: string) => boolean): Headers {
  const named = connectionNamed(from);
  const out = new Headers();
  for (const [name, value] of from) {
    if (HOP_BY_HOP.has(name) || named.has(name) || drop(name)) continue;
    out.append(name, value);
  }
  return out;
}

export interface ForwardContext {
  endpoint: Endpoint;
  requestId: string;
  /** The TCP peer, appended to X-Forwarded-For. */
  peer: string | undefined;
  /** The client's URL as olla saw it (for X-Forwarded-Proto/Host). */
  url: URL;
  /** Client credentials are olla's own (server.auth): never forwarded. */
  clientKeysAreOurs?: boolean;
}

export function upstreamRequestHeaders(incoming: Headers, context: ForwardContext): Headers {
  const { endpoint } = context;
  const out = copyHeaders(
    incoming,
    (name) =>
      NOT_FORWARDED.has(name) ||
      name.startsWith("x-forwarded-") ||
      ((endpoint.hasAuth || context.clientKeysAreOurs === true) && CLIENT_CREDENTIALS.has(name)) ||
      endpoint.ownHeaderNames.has(name),
  );
  const forwardedFor = incoming.get("x-forwarded-for");
  const peer = context.peer ?? "unknown";
  out.set("x-forwarded-for", forwardedFor ? `${forwardedFor}, ${peer}` : peer);
  out.set("x-forwarded-proto", context.url.protocol.replace(":", ""));
  out.set("x-forwarded-host", incoming.get("host") ?? context.url.host);
  const via = incoming.get("via");
  out.set("via", via ? `${via}, ${VIA}` : VIA);
  if (!out.has("x-request-id")) out.set("x-request-id", context.requestId);
  for (const [name, value] of endpoint.headers) out.set(name, value);
  return out;
}

export interface ResponseContext {
  endpoint: Endpoint;
  requestId: string;
  model: string | undefined;
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  responseTimeMs: number;
}

export function clientResponseHeaders(upstream: Headers, context: ResponseContext): Headers {
  const { endpoint } = context;
  const out = copyHeaders(
    upstream,
    (name) =>
      UPSTREAM_SECRETS.has(name) ||
      name.startsWith("x-olla-") ||
      endpoint.ownHeaderNames.has(name) ||
      name === "via",
  );
  const upstreamVia = upstream.get("via");
  out.set("via", upstreamVia ? `${VIA}, ${upstreamVia}` : VIA);
  out.set("x-served-by", `olla/${BUILD.version}`);
  out.set("x-olla-endpoint", endpoint.name);
  out.set("x-olla-backend-type", endpoint.type);
  if (context.model !== undefined) out.set("x-olla-model", context.model);
  out.set("x-olla-request-id", context.requestId);
  out.set("x-olla-response-time", `${Math.round(context.responseTimeMs)}ms`);
  return out;
}
