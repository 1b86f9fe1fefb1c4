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

// Pairs that are the same on every request are made once and shared: nothing changes a pair once it
// is in a list (the upstream clients and the Response only read them).
const VIA_PAIR: [string, string] = ["via", VIA];
const SERVED_BY_PAIR: [string, string] = ["x-served-by", `olla/${BUILD.version}`];
// olla listens on plain HTTP (TLS, where there is any, ends in front of it).
const PROTO_PAIR: [string, string] = ["x-forwarded-proto", "http"];

/** Olla's headers that are the same on every answer from an endpoint (Via, X-Served-By, X-Olla-Endpoint,
 * X-Olla-Backend-Type), made once per endpoint: each answer's Headers starts as a native copy of these,
 * cheaper for Bun than building each header from a pair (about 1.3 µs a response, measured). */
const endpointTemplates = new WeakMap<Endpoint, Headers>();

function templateOf(endpoint: Endpoint): Headers {
  let template = endpointTemplates.get(endpoint);
  if (template === undefined) {
    template = new Headers([
      VIA_PAIR,
      SERVED_BY_PAIR,
      ["x-olla-endpoint", endpoint.name],
      ["x-olla-backend-type", endpoint.type],
    ]);
    endpointTemplates.set(endpoint, template);
  }
  return template;
}

/** Header names listed in Connection are hop-by-hop too (RFC 9110 §7.6.1): added to `into`. */
function connectionNamed(listed: string | null, into?: Set<string>): Set<string> | undefined {
  if (!listed) return into;
  for (const name of listed.split(",")) {
    const trimmed = name.trim().toLowerCase();
    // "keep-alive" and "close" (what nearly every client sends) name nothing that is not dropped anyway:
    // no Set for them.
    if (trimmed && trimmed !== "close" && !HOP_BY_HOP.has(trimmed)) (into ??= new Set()).add(trimmed);
  }
  return into;
}

export interface ForwardContext {
  endpoint: Endpoint;
  requestId: string;
  /** The TCP peer, appended to X-Forwarded-For. */
  peer: string | undefined;
  /** The client's request as olla saw it: its URL is read (and parsed) only for a request that came
   * without a Host header, for X-Forwarded-Host. */
  client: { readonly url: URL };
  /** Client credentials are olla's own (server.auth): never forwarded. */
  clientKeysAreOurs?: boolean;
}

/** The Connection header among the client's pairs (lowercase names, as Headers gives them). */
function connectionOf(incoming: HeaderPairs): string | null {
  for (const [name, value] of incoming) if (name === "connection") return value;
  return null;
}

/** The headers an endpoint gets, as pairs (no Headers object per request on the hot path), from the
 * client's pairs (taken from its Headers once for every try). */
export function upstreamRequestHeaders(incoming: HeaderPairs, context: ForwardContext): HeaderPairs {
  const { endpoint } = context;
  const named = connectionNamed(connectionOf(incoming));
  const dropCredentials = endpoint.hasAuth || context.clientKeysAreOurs === true;
  const out: HeaderPairs = [];
  let forwardedFor: string | undefined;
  let via: string | undefined;
  let host: string | undefined;
  let hasRequestId = false;
  for (const pair of incoming) {
    const [name, value] = pair;
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
    // The iterator's own pair: no second array per header.
    out.push(pair);
  }
  const peer = context.peer ?? "unknown";
  out.push(
    ["x-forwarded-for", forwardedFor ? `${forwardedFor}, ${peer}` : peer],
    PROTO_PAIR,
    ["x-forwarded-host", host ?? context.client.url.host],
    via ? ["via", `${via}, ${VIA}`] : VIA_PAIR,
  );
  if (!hasRequestId) out.push(["x-request-id", context.requestId]);
  for (const pair of endpoint.headers) out.push(pair as [string, string]);
  return out;
}

export interface ResponseContext {
  endpoint: Endpoint;
  model: string | undefined;
  /** Milliseconds from the request's arrival to the upstream's response headers. */
  responseTimeMs: number;
}

/** The client's response head, built from the endpoint's, and what the proxy reads from it. */
export interface ClientHead {
  /** Olla's own to add to (the request id, routing headers) before the Response is made from it. */
  headers: Headers;
  contentType: string | null;
  /** NaN when the endpoint sent none. */
  contentLength: number;
}

/** The endpoint's response headers (as received: any case, in order) made the client's, starting from
 * the endpoint's template of olla's fixed headers. */
export function clientResponseHeaders(
  upstream: readonly (readonly [string, string])[],
  context: ResponseContext,
): ClientHead {
  const { endpoint } = context;
  let named: Set<string> | undefined;
  for (const [name, value] of upstream) {
    if (name.length === 10 && name.toLowerCase() === "connection") named = connectionNamed(value, named);
  }
  const headers = new Headers(templateOf(endpoint));
  let contentType: string | null = null;
  let contentLength = Number.NaN;
  let upstreamVia: string | undefined;
  for (const [raw, value] of upstream) {
    // Free for the lowercase names the upstream clients give (the same string comes back).
    const name = raw.toLowerCase();
    if (name === "content-type") contentType = value;
    else if (name === "content-length") contentLength = Number(value);
    else if (name === "via") {
      upstreamVia = upstreamVia === undefined ? value : `${upstreamVia}, ${value}`;
      continue;
    }
    if (
      HOP_BY_HOP.has(name) ||
      named?.has(name) === true ||
      UPSTREAM_SECRETS.has(name) ||
      name.startsWith("x-olla-") ||
      endpoint.ownHeaderNames.has(name)
    )
      continue;
    headers.append(name, value);
  }
  // Olla's hop first, then the ones the endpoint's answer passed on its way.
  if (upstreamVia) headers.set("via", `${VIA}, ${upstreamVia}`);
  if (context.model !== undefined) headers.set("x-olla-model", context.model);
  headers.set("x-olla-response-time", `${Math.round(context.responseTimeMs)}ms`);
  return { headers, contentType, contentLength };
}
