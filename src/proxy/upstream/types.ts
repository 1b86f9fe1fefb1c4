// The one contract both upstream engines implement (olla: pooled Bun.connect, sherpa: fetch), the typed
// error the forwarder branches on, and the shared options with their defaults.

/** Request headers as pairs with lower-case names: what the proxy builds (cheaper than a Headers). */
export type HeaderPairs = [name: string, value: string][];

export interface UpstreamRequest {
  /** Target URL (http: or https:). Its scheme, host, port and user:password are read once per URL
   * object, so a caller may share one per endpoint and name the path in `path`. */
  url: URL;
  /** Path and query to ask for ("/v1/models?x=1"), in place of the URL's own: no URL per request. */
  path?: string;
  method: string;
  /** Already filtered by the caller (no hop-by-hop, no host); the client sets Host and framing itself.
   * Read during `request()` itself (encoded or copied), so the caller may let go of them once it returns. */
  headers: Headers | HeaderPairs;
  /** The whole body, or a body still arriving (forwarded as it comes, kept whole for a replay). A whole
   * body is read during `send()` itself (encoded with the head), so the caller may let go of it once
   * send() returns; a body still arriving is followed until the response head. */
  body: Uint8Array | StreamingBody | null;
  /** Client went away or a deadline passed: abort at once and destroy the upstream socket. */
  signal?: AbortSignal;
  /** Whole-exchange deadline in ms from the call, body included (0/absent: none). Cut by it, the request
   * fails (or the body ends) with kind "response_timeout". A timer, not an AbortSignal per request. */
  deadlineMs?: number;
  // The hooks below are called as methods of the request (`this` is the request), so a caller may
  // implement them on a class instead of allocating closures per request.
  /** The headers the returned Response carries (pairs or a Headers), made from the endpoint's (in
   * order; names lowercase from the pooled client and from fetch). Called once, when the head arrives;
   * absent, the endpoint's headers are kept. Clients read `body` only before this call (a retry on a
   * fresh socket sends it again), so the caller may let go of it here. */
  responseHeaders?: (headers: HeaderPairs) => HeaderPairs | Headers;
  /** Told once when a delivered response ends: its body complete, failed, or cancelled by the consumer.
   * Lets the caller observe a stream (in-flight counts, logs) without wrapping it in another stream. */
  onBodyEnd?: (outcome: BodyOutcome, error?: UpstreamError) => void;
  /** Sees each body chunk as it goes to the consumer (the bytes may be kept by reference, never
   * changed). For time to first token, byte counts and the token usage an answer carries. */
  onChunk?: (chunk: Uint8Array) => void;
  /** For a body that fails mid-way: bytes to append before ending it cleanly (a protocol error event),
   * or null to error the stream. `lastByte` is the last body byte delivered, if any. */
  failureTrailer?: (
    error: UpstreamError,
    contentType: string | null,
    lastByte: number | undefined,
  ) => Uint8Array | null;
}

export type BodyOutcome = "complete" | "failed" | "cancelled";

/** Where send() reports a request's answer: methods of the request itself, so a caller that keeps one
 * object per try waits for its head without a promise, its two functions and a frame per request. */
export interface AnswerHooks {
  /** The response head arrived (its body streams, as from request()). */
  onResponse(response: Response): void;
  /** The request failed before any response. */
  onFailure(error: UpstreamError): void;
}

/** A request body still arriving from the client. Every chunk stays in `chunks`, so a failover can
 * replay it; an upstream gets the bytes as they come instead of after the last one. */
export interface StreamingBody {
  /** Total size in bytes (the client's Content-Length). */
  readonly length: number;
  /** Chunks received so far, in order. */
  readonly chunks: readonly Uint8Array[];
  /** Every byte has arrived. */
  readonly complete: boolean;
  /** The client's upload failed or ended short. */
  readonly error: Error | undefined;
  /** Calls `listener` after each new chunk, on completion and on error; returns the unsubscribe. */
  watch(listener: () => void): () => void;
}

export function isStreamingBody(body: UpstreamRequest["body"]): body is StreamingBody {
  return body !== null && !(body instanceof Uint8Array);
}

export interface UpstreamClientStats {
  /** Upstream sockets open or connecting (always 0 for sherpa: fetch hides its pool). */
  open: number;
  /** Open sockets waiting in the pool for a request (0 for sherpa). */
  idle: number;
  /** Requests waiting for a connection slot (sherpa: estimate above Bun's fetch cap). */
  queued: number;
  /** Requests holding (or connecting) an upstream connection whose response is not complete yet. */
  inFlight: number;
}

export interface UpstreamClient {
  /** Resolves when the response headers arrive; the body streams. Rejects with UpstreamError. The
   * Response is the caller's: its headers may be edited and it may be handed on as it is. */
  request(req: UpstreamRequest): Promise<Response>;
  /** request() without the promise: exactly one of the request's hooks is called once, never from
   * inside send() nor from inside the socket callback that produced the answer (as a promise reaction
   * would run). The hooks must not throw. */
  send(req: UpstreamRequest & AnswerHooks): void;
  /** Closes idle sockets; requests in flight are neither rejected nor aborted. */
  close(): void;
  stats(): UpstreamClientStats;
}

export type UpstreamErrorKind =
  | "connect"
  | "reset"
  | "header_timeout"
  | "read_timeout"
  | "response_timeout"
  | "protocol"
  | "aborted"
  | "tls";

/**
 * Every failure of an upstream exchange. `beforeResponse` is true when no response byte had arrived: only
 * then may the caller replay the request on another endpoint. Failures while the body streams error the
 * Response body with this error (beforeResponse false), never end it cleanly.
 */
export class UpstreamError extends Error {
  override readonly name = "UpstreamError";
  readonly kind: UpstreamErrorKind;
  readonly beforeResponse: boolean;

  constructor(kind: UpstreamErrorKind, message: string, beforeResponse: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.beforeResponse = beforeResponse;
  }
}

export interface UpstreamTlsOptions {
  /** false accepts any certificate (self-signed upstreams on a LAN). Default true. */
  rejectUnauthorized?: boolean;
  /** PEM CA bundle that replaces the default roots for upstream certificates. */
  ca?: string;
}

export interface UpstreamClientOptions {
  /** TCP connect (olla; sherpa cannot time it apart from the header wait, see fetch-client.ts). 0 = off. */
  connectTimeoutMs: number;
  /** TLS handshake after TCP connect (olla only); a stall fails with kind "connect". 0 = off. */
  tlsHandshakeTimeoutMs: number;
  /** From the request being handed to a socket until the response head is complete (covers a cold
   * model load; sherpa counts from the call). 0 = off. */
  responseHeaderTimeoutMs: number;
  /** Longest quiet gap between body bytes while the consumer keeps up; 0 = off. */
  readTimeoutMs: number;
  /** Idle sockets kept per host (olla); 0 = close each socket after its response. */
  maxIdleConns: number;
  /** Busy sockets per host before requests wait in a FIFO queue; 0 = no cap (olla). */
  maxConnsPerHost: number;
  /** An idle socket older than this is closed, never reused (olla). 0 = no expiry. */
  idleConnTimeoutMs: number;
  /** Idle time before TCP keep-alive probes on upstream sockets; 0 = no probes (olla). */
  tcpKeepAliveMs: number;
  /** Bytes buffered for a response body before the upstream is paused; 0 = engine default. */
  streamBufferSize: number;
  tls?: UpstreamTlsOptions;
}

/**
 * Defaults match the config schema (`proxy.*` in src/config/schema.ts): a 5 min header wait covers a cold
 * model load, a 10 min read gap covers long prompt processing between streamed tokens. The idle timeout
 * may exceed an upstream's own keep-alive (uvicorn and llama.cpp close after 5 s) because the pool sees
 * the upstream's FIN on idle sockets and drops them, and a reused socket that dies before any response
 * byte gets the request once more on a fresh connection.
 */
export const DEFAULT_UPSTREAM_OPTIONS: Readonly<UpstreamClientOptions> = Object.freeze({
  connectTimeoutMs: 60_000,
  tlsHandshakeTimeoutMs: 10_000,
  responseHeaderTimeoutMs: 5 * 60_000,
  readTimeoutMs: 10 * 60_000,
  maxIdleConns: 100,
  maxConnsPerHost: 50,
  idleConnTimeoutMs: 90_000,
  tcpKeepAliveMs: 30_000,
  streamBufferSize: 0,
});

/** Engine defaults for streamBufferSize 0 (same figures as the config key's help text). */
export const DEFAULT_STREAM_BUFFER = { olla: 64 * 1024, sherpa: 8 * 1024 } as const;

export type UpstreamEngine = keyof typeof DEFAULT_STREAM_BUFFER;

export function resolveUpstreamOptions(
  engine: UpstreamEngine,
  options: Partial<UpstreamClientOptions> = {},
): UpstreamClientOptions {
  const merged: UpstreamClientOptions = { ...DEFAULT_UPSTREAM_OPTIONS };
  // Undefined keys must not overwrite defaults (a config layer may pass them explicitly).
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
  }
  for (const key of [
    "connectTimeoutMs",
    "tlsHandshakeTimeoutMs",
    "responseHeaderTimeoutMs",
    "readTimeoutMs",
    "maxIdleConns",
    "maxConnsPerHost",
    "idleConnTimeoutMs",
    "tcpKeepAliveMs",
    "streamBufferSize",
  ] as const) {
    const value = merged[key];
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`upstream option ${key} must be a finite number >= 0, got ${value}`);
    }
  }
  if (merged.streamBufferSize === 0) merged.streamBufferSize = DEFAULT_STREAM_BUFFER[engine];
  return merged;
}

/** The path and query a request asks for. */
export function requestPath(req: UpstreamRequest): string {
  return req.path ?? `${req.url.pathname || "/"}${req.url.search}`;
}
