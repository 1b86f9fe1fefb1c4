// Header rules both ways. To the endpoint: no hop-by-hop headers, no Host or Origin, no client
// credentials where the endpoint has its own auth, forwarding headers added. Back to the client: no
// cookies or credentials from upstream, no upstream X-Olla-*, and olla's own X-Olla-* headers added.

import type { Endpoint } from "../endpoints/index.ts";
import { BUILD } from "../version.ts";
import type { HeaderPairs } from "./upstream/index.ts";

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
const SERVED_BY = `olla/${BUILD.version}`;

/** Header names listed in Connection are hop-by-hop too (RFC 9110 §7.6.1); undefined when none are. */
function connectionNamed(headers: Headers): Set<string> | undefined {
  const listed = headers.get("connection");
  if (!listed) return undefined;
  return new Set(
    listed
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Deletes hop-by-hop headers (incl. those named in Connection) and those `drop` refuses, in place. */
function pruneHeaders(headers: Headers, drop: (name: string) => boolean): void {
  const named = connectionNamed(headers);
  let doomed: string[] | undefined;
  // Deleting while iterating would skip entries: collect first.
  for (const name of headers.keys()) {
    if (HOP_BY_HOP.has(name) || named?.has(name) === true || drop(name)) (doomed ??= []).push(name);
  }
  if (doomed) for (const name of doomed) headers.delete(name);
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

/** The headers an endpoint gets, as pairs (no Headers object per request on the hot path). */
export function upstreamRequestHeaders(incoming: Headers, context: ForwardContext): HeaderPairs {
  const { endpoint } = context;
  const named = connectionNamed(incoming);
  const dropCredentials = endpoint.hasAuth || context.clientKeysAreOurs === true;
  const out: HeaderPairs = [];
  let forwardedFor: string | undefined;
  let via: string | undefined;
  let host: string | undefined;
  let hasRequestId = false;
  for (const [name, value] of incoming) {
    // The ones rewritten below are read on the way past.
    if (name === "x-forwarded-for") forwardedFor = value;
    else if (name === "via") via = value;
    else if (name === "host") host = value;
    if (
      HOP_BY_HOP.has(name) ||
      named?.has(name) === true ||
      NOT_FORWARDED.has(name) ||
      name === "via" ||
      name.startsWith("x-forwarded-") ||
      (dropCredentials && CLIENT_CREDENTIALS.has(name)) ||
      endpoint.ownHeaderNames.has(name)
    )
      continue;
    if (name === "x-request-id") hasRequestId = true;
    out.push([name, value]);
  }
  const peer = context.peer ?? "unknown";
  out.push(
    ["x-forwarded-for", forwardedFor ? `${forwardedFor}, ${peer}` : peer],
    ["x-forwarded-proto", context.url.protocol.slice(0, -1)],
    ["x-forwarded-host", host ?? context.url.host],
    ["via", via ? `${via}, ${VIA}` : VIA],
  );
  if (!hasRequestId) out.push(["x-request-id", context.requestId]);
  for (const [name, value] of endpoint.headers) out.push([name, value]);
  return out;
}

export interface ResponseContext {
  endpoint: Endpoint;
  model: string | undefined;
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  responseTimeMs: number;
}

/** Turns the endpoint's response headers into the client's, in place (the upstream client's Response is
 * handed on as it is: no second Headers or Response per answer). Returns `headers`. */
export function clientResponseHeaders(headers: Headers, context: ResponseContext): Headers {
  const { endpoint } = context;
  const upstreamVia = headers.get("via");
  pruneHeaders(
    headers,
    (name) =>
      UPSTREAM_SECRETS.has(name) ||
      name.startsWith("x-olla-") ||
      endpoint.ownHeaderNames.has(name) ||
      name === "via",
  );
  headers.set("via", upstreamVia ? `${VIA}, ${upstreamVia}` : VIA);
  headers.set("x-served-by", SERVED_BY);
  headers.set("x-olla-endpoint", endpoint.name);
  headers.set("x-olla-backend-type", endpoint.type);
  if (context.model !== undefined) headers.set("x-olla-model", context.model);
  headers.set("x-olla-response-time", `${Math.round(context.responseTimeMs)}ms`);
  return headers;
}
