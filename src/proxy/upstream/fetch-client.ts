// The "sherpa" engine: Bun's fetch behind the UpstreamClient contract, with our own header and read-gap
// timers and errors mapped to UpstreamError kinds. Simpler than the pooled client, slower under load.
//
// Limits fetch imposes (reference/bun-notes.md §2): at most BUN_CONFIG_MAX_HTTP_REQUESTS (default 256)
// requests run at once, the rest queue silently; about 64 idle sockets per host; the pool options
// (maxIdleConns, maxConnsPerHost, idleConnTimeoutMs, tcpKeepAliveMs) do not apply; connect and TLS
// handshake cannot be timed apart from the header wait, so responseHeaderTimeoutMs covers them (from the
// call on, including Bun's own queue). With readTimeoutMs 0 the body is fetch's own stream, unwrapped
// (the fast path): a failure mid-body then errors it with fetch's error (TypeError code ECONNRESET,
// AbortError), still never a clean end; `toUpstreamError` classifies those.
// Memory: reading fetch's body from JS makes Bun's native stream source allocate a 256 KiB buffer per
// body and keep it while a read waits (Bun's NativeReadableStreamSource, autoAllocateChunkSize). Its
// pages are mostly never written (about 34 KB resident per quiet stream, measured), but the JS heap
// counts all of it: thousands of quiet streams cost far more here than with the pooled client.

import {
  type BodyOutcome,
  isStreamingBody,
  resolveUpstreamOptions,
  type StreamingBody,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamErrorKind,
  type UpstreamRequest,
} from "./types.ts";

const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ConnectionRefused",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
  "FailedToOpenSocket",
  "UnableToConnect",
]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ConnectionClosed", "ConnectionReset"]);

function classify(code: string | undefined, name: string | undefined): UpstreamErrorKind {
  if (name === "TimeoutError") return "read_timeout";
  if (code === undefined || code === "") return "reset";
  if (CONNECT_CODES.has(code)) return "connect";
  if (RESET_CODES.has(code)) return "reset";
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/i.test(code)) return "tls";
  if (/Invalid|Malformed|Header|Response|Chunk|Encoding|Redirect/i.test(code)) return "protocol";
  return "reset";
}

/** Map any error from fetch or its body to an UpstreamError (an UpstreamError passes unchanged). */
export function toUpstreamError(err: unknown, beforeResponse: boolean, signal?: AbortSignal): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (signal?.aborted) {
    return new UpstreamError("aborted", "upstream request aborted", beforeResponse, signal.reason);
  }
  const e = err as { code?: unknown; name?: string; message?: string } | null;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const kind = classify(code, e?.name);
  const detail = code ?? e?.message ?? String(err);
  const where = beforeResponse ? "before the response" : "mid-body";
  return new UpstreamError(kind, `upstream request failed ${where}: ${detail}`, beforeResponse, err);
}

/** A request body still arriving, as the stream fetch sends: each chunk as it lands. */
function streamOf(body: StreamingBody): ReadableStream<Uint8Array> {
  let sent = 0;
  let closed = false;
  let unwatch: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const take = () => {
        if (closed) return;
        if (body.error !== undefined) {
          closed = true;
          unwatch?.();
          controller.error(body.error);
          return;
        }
        while (sent < body.chunks.length) controller.enqueue(body.chunks[sent++]!);
        if (body.complete) {
          closed = true;
          unwatch?.();
          controller.close();
        }
      };
      unwatch = body.watch(take);
      take();
    },
    cancel() {
      closed = true;
      unwatch?.();
    },
  });
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/** The request's URL with its `path` in place (set, not resolved: a path starting "//" stays a path). */
function targetUrl(req: UpstreamRequest): URL {
  if (req.path === undefined) return req.url;
  const url = new URL(req.url);
  const query = req.path.indexOf("?");
  url.pathname = query < 0 ? req.path : req.path.slice(0, query);
  url.search = query < 0 ? "" : req.path.slice(query);
  return url;
}

export function createFetchClient(options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const opts = resolveUpstreamOptions("sherpa", options);
  const tls =
    opts.tls === undefined
      ? undefined
      : {
          ...(opts.tls.rejectUnauthorized === undefined
            ? {}
            : { rejectUnauthorized: opts.tls.rejectUnauthorized }),
          ...(opts.tls.ca === undefined ? {} : { ca: opts.tls.ca }),
        };
  // Bun reads its cap once at start-up; what runs above it waits in Bun's queue, invisible to us.
  const fetchCap = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) || 256;
  let inFlight = 0;

  async function request(req: UpstreamRequest): Promise<Response> {
    const signal = req.signal;
    if (signal?.aborted) throw new UpstreamError("aborted", "upstream request aborted", true, signal.reason);
    // One local controller serves the header timeout and the read-gap timeout; the caller's signal joins
    // it so an abort reaches fetch both before the headers and while the body streams.
    const local = new AbortController();
    const combined = signal === undefined ? local.signal : AbortSignal.any([signal, local.signal]);
    let headerTimedOut = false;
    let deadlineHit = false;
    const deadline =
      req.deadlineMs !== undefined && req.deadlineMs > 0
        ? setTimeout(() => {
            deadlineHit = true;
            local.abort();
          }, req.deadlineMs)
        : null;
    const timer =
      opts.responseHeaderTimeoutMs > 0
        ? setTimeout(() => {
            headerTimedOut = true;
            local.abort();
          }, opts.responseHeaderTimeoutMs)
        : null;
    inFlight++;
    let res: Response;
    try {
      const body = req.body;
      const streamed = isStreamingBody(body);
      // fetch would send a body still arriving chunked; the length is known, so announce it.
      const headers = streamed
        ? [...req.headers]
            .filter(([name]) => name !== "content-length")
            .concat([["content-length", String(body.length)]])
        : req.headers;
      res = await fetch(targetUrl(req), {
        method: req.method,
        headers,
        body: streamed ? streamOf(body) : body,
        // A body still arriving streams through (fetch wants duplex for that).
        ...(streamed ? { duplex: "half" } : {}),
        signal: combined,
        decompress: false,
        proxy: false,
        redirect: "manual",
        // Bun's own socket idle timer (5 min) would cut a slow cold load; our timers decide instead.
        timeout: false,
        ...(tls === undefined ? {} : { tls }),
      });
    } catch (err) {
      if (timer !== null) clearTimeout(timer);
      if (deadline !== null) clearTimeout(deadline);
      inFlight--;
      if (deadlineHit && !signal?.aborted) {
        throw new UpstreamError(
          "response_timeout",
          `response took longer than ${Math.round(req.deadlineMs ?? 0)} ms`,
          true,
          err,
        );
      }
      if (headerTimedOut && !signal?.aborted) {
        throw new UpstreamError(
          "header_timeout",
          `no response headers within ${opts.responseHeaderTimeoutMs} ms`,
          true,
          err,
        );
      }
      throw toUpstreamError(err, true, signal);
    }
    if (timer !== null) clearTimeout(timer);
    const body = res.body;
    const noBody = body === null || req.method === "HEAD" || NULL_BODY_STATUS.has(res.status);
    const observed =
      req.onBodyEnd !== undefined ||
      req.failureTrailer !== undefined ||
      req.onChunk !== undefined ||
      deadline !== null;
    // The caller's headers need a new Response; without them fetch's own is handed on where it can be.
    const headers = req.responseHeaders === undefined ? null : req.responseHeaders([...res.headers]);
    const init = { status: res.status, statusText: res.statusText, headers: headers ?? res.headers };
    if (noBody || (opts.readTimeoutMs === 0 && !observed)) {
      inFlight--;
      if (deadline !== null && noBody) clearTimeout(deadline);
      if (noBody) req.onBodyEnd?.("complete");
      return headers === null ? res : new Response(noBody ? null : body, init);
    }
    let counted = true;
    const done = () => {
      if (deadline !== null) clearTimeout(deadline);
      if (counted) {
        counted = false;
        inFlight--;
      }
    };
    const wrapped = wrapBody(body, {
      readTimeoutMs: opts.readTimeoutMs,
      bufferBytes: opts.streamBufferSize,
      local,
      signal,
      onEnd: done,
      req,
      contentType: res.headers.get("content-type"),
      deadlineHit: () => deadlineHit,
    });
    return new Response(wrapped, init);
  }

  return {
    request,
    // fetch makes a promise per request anyway: send() is request() with the hooks as its reactions.
    send(req) {
      request(req).then(
        (response) => req.onResponse(response),
        (error: unknown) => req.onFailure(toUpstreamError(error, true, req.signal)),
      );
    },
    close() {
      // fetch owns its sockets; there is nothing of ours to close.
    },
    stats() {
      return { open: 0, idle: 0, queued: Math.max(0, inFlight - fetchCap), inFlight };
    },
  };
}

interface WrapOptions {
  readTimeoutMs: number;
  bufferBytes: number;
  local: AbortController;
  signal: AbortSignal | undefined;
  /** Internal bookkeeping (in-flight count, deadline timer), run once at the end. */
  onEnd: () => void;
  /** For the caller's hooks: onBodyEnd and failureTrailer. */
  req: UpstreamRequest;
  contentType: string | null;
  deadlineHit: () => boolean;
}

/**
 * Pass fetch's body through chunk by chunk, erroring with UpstreamError on a read gap longer than
 * `readTimeoutMs` (counted only while a read waits on the upstream, never while our consumer is slow)
 * and on any failure mid-body, or ending with the caller's failure trailer when it gives one.
 */
function wrapBody(body: ReadableStream<Uint8Array>, options: WrapOptions): ReadableStream<Uint8Array> {
  const { readTimeoutMs, local, signal, req } = options;
  const reader = body.getReader();
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let waiting = false;
  let finished = false;
  let lastByte: number | undefined;

  const finish = (outcome: BodyOutcome, err?: UpstreamError) => {
    if (finished) return false;
    finished = true;
    if (timer !== null) clearTimeout(timer);
    options.onEnd();
    req.onBodyEnd?.(outcome, err);
    return true;
  };

  /** Ends the body after a failure: with the caller's trailer when it has one, else as an error. */
  const failWith = (c: ReadableStreamDefaultController<Uint8Array>, err: UpstreamError) => {
    const trailer = err.kind === "aborted" ? null : req.failureTrailer?.(err, options.contentType, lastByte);
    if (!finish(err.kind === "aborted" ? "cancelled" : "failed", err)) return;
    if (trailer) {
      c.enqueue(trailer);
      c.close();
    } else {
      c.error(err);
    }
  };

  const onTimeout = () => {
    if (!waiting || finished) return;
    const err = new UpstreamError("read_timeout", `no body bytes for ${readTimeoutMs} ms`, false);
    if (controller) failWith(controller, err);
    // Aborting fetch's signal destroys the socket; cancel alone might let it drain.
    local.abort(err);
    reader.cancel(err).catch(() => {});
  };

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull(c) {
        waiting = true;
        if (readTimeoutMs > 0) {
          if (timer === null) timer = setTimeout(onTimeout, readTimeoutMs);
          else timer.refresh();
        }
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (err) {
          waiting = false;
          const failure = options.deadlineHit()
            ? new UpstreamError(
                "response_timeout",
                `response took longer than ${Math.round(req.deadlineMs ?? 0)} ms`,
                false,
                err,
              )
            : toUpstreamError(err, false, signal);
          failWith(c, failure);
          return;
        }
        waiting = false;
        if (finished) return;
        if (result.done) {
          finish("complete");
          c.close();
        } else {
          const chunk = result.value;
          if (chunk.byteLength > 0) lastByte = chunk[chunk.byteLength - 1];
          req.onChunk?.(chunk);
          c.enqueue(chunk);
        }
      },
      cancel(reason) {
        finish("cancelled");
        local.abort(reason);
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: options.bufferBytes, size: (chunk) => chunk?.byteLength ?? 0 },
  );
}
