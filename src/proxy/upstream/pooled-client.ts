// The "olla" engine: an HTTP/1.1 client on Bun.connect with a keep-alive pool per host. It exists because
// Bun's fetch keeps ~64 idle sockets and churns connections above that (see reference/pooled-client-notes.md).
//
// Stale sockets: an upstream closes idle keep-alive sockets on its own clock (uvicorn, llama.cpp: 5 s).
// Idle sockets see that FIN and leave the pool at once; the remaining race is a FIN crossing our request.
// When a *reused* socket closes before any response byte, the request goes once more on a fresh
// connection, whatever its method: an upstream that closes a kept-alive socket without answering has
// (by far most likely) not read the request, the forwarder replays bodies across endpoints under the very
// same condition (beforeResponse), and inference requests have no side effects beyond GPU time. Fresh
// sockets, timeouts and aborts are never retried here.
//
// Late arming: most exchanges are over within a few milliseconds, so none gets an abort listener or
// its timer (header wait, deadline) when it starts. A sweep LATE_ARM_MS after the oldest unarmed one
// arms those still running, with what is left of each timeout (the same expiry as if armed at once).
// A client that goes away is still noticed within 2 × LATE_ARM_MS; timeouts of LATE_ARM_MS or less
// are armed at once.

import { isIP } from "node:net";
import type { Socket, SocketHandler } from "bun";
import { BodySink, type BodySinkHooks } from "./body-sink.ts";
import { type Authority, authorityOf, type EncodedRequest, encodeRequest } from "./http1-request.ts";
import {
  BODY,
  createResponseParser,
  DONE,
  HEAD,
  NEED_MORE,
  parseEof,
  parseNext,
  type ResponseHead,
  type ResponseParser,
  resetResponseParser,
} from "./http1-response-parser.ts";
import {
  type AnswerHooks,
  isStreamingBody,
  resolveUpstreamOptions,
  type StreamingBody,
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamRequest,
} from "./types.ts";

type Timer = ReturnType<typeof setTimeout>;

const LATE_ARM_MS = 25;

// Connection states.
const C_CONNECTING = 0;
const C_IDLE = 1;
const C_BUSY = 2;
const C_CLOSED = 3;

// Exchange phases.
const X_QUEUED = 0;
const X_CONNECTING = 1;
/** Request handed to a socket, response head not complete yet. */
const X_WAITING = 2;
/** Head delivered, body streaming through a sink. */
const X_BODY = 3;
const X_DONE = 4;

interface HostPool {
  hostname: string;
  port: number;
  tls: boolean;
  tlsConfig: Bun.TLSOptions | true;
  /** LIFO: the most recently used socket is the least likely to be stale. Index 0 is the oldest. */
  idle: Conn[];
  /** Sockets counted against maxConnsPerHost: connecting, busy and idle. */
  total: number;
  queue: Exchange[];
}

interface Conn {
  pool: HostPool;
  socket: Socket<Conn> | null;
  state: number;
  ex: Exchange | null;
  parser: ResponseParser;
  /** Completed responses on this socket; > 0 means reused, which allows the stale-socket retry. */
  served: number;
  idleSince: number;
  /** Guards the pool counters: Bun reports both end and close, and we may destroy first. */
  counted: boolean;
  timer: Timer | null;
  writeChunks: Uint8Array[] | null;
  /** A streaming request body is still arriving: more chunks will be appended to writeChunks. */
  bodyPending: boolean;
  writeIndex: number;
  writeOffset: number;
  paused: boolean;
}

interface Exchange {
  req: UpstreamRequest;
  /** What a retry on a fresh socket writes again: kept until the response head, or only until written
   * when the socket never served a response (no retry is made then). */
  encoded: EncodedRequest | null;
  /** The caller asked for Connection: close. */
  closeAfter: boolean;
  noBody: boolean;
  /** Told of the head or the failure before it: the request itself (send) or its promise (request). */
  answer: AnswerHooks;
  /** `answer` is the caller's own hooks: told from a microtask (see tell). */
  hooked: boolean;
  /** What send()'s caller is about to be told, until the microtask tells it. */
  outcome: Response | UpstreamError | null;
  phase: number;
  pool: HostPool;
  conn: Conn | null;
  /** Some response byte arrived: replaying the request elsewhere is no longer safe. */
  gotByte: boolean;
  retried: boolean;
  /** Counted in stats().inFlight. */
  active: boolean;
  startedAt: number;
  /** Handed to a socket (the header timeout runs from here). */
  dispatchedAt: number;
  /** The abort listener and timers are set (see late arming in the module notes). */
  armed: boolean;
  /** The exchange's one timer (see schedule): the deadline, and the header wait or the read gap. */
  timer: Timer | null;
  /** When `timer` fires. */
  timerAt: number;
  /** performance.now() time of the deadline, once armed (Infinity: none). */
  deadlineAt: number;
  /** performance.now() time the response head is due by, once dispatched (Infinity: no limit). */
  headerAt: number;
  /** Last body byte handed to the consumer (for the caller's failure trailer). */
  lastByte: number | undefined;
  lastRead: number;
  head: ResponseHead | null;
  /** The whole Content-Length body came with the head: the next BODY event becomes a plain Response. */
  fastPath: boolean;
  sink: BodySink | null;
  onAbort: (() => void) | null;
  /** Stops following a streaming request body. */
  unwatchBody: (() => void) | null;
}

const noop = () => {};

/** An exchange's answer once given: what it holds is let go (a stream need not keep a promise's functions). */
const ANSWERED: AnswerHooks = { onResponse: noop, onFailure: noop };

export function createPooledClient(options: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const opts = resolveUpstreamOptions("olla", options);
  const tlsOptions = {
    ...(opts.tls?.rejectUnauthorized === undefined
      ? {}
      : { rejectUnauthorized: opts.tls.rejectUnauthorized }),
    ...(opts.tls?.ca === undefined ? {} : { ca: opts.tls.ca }),
  };
  const pools = new Map<string, HostPool>();
  /** Each URL object's pool, Host and credentials, read once: endpoints pass the same URL every time. */
  const targets = new WeakMap<URL, { pool: HostPool; authority: Authority }>();
  let openCount = 0;
  let idleCount = 0;
  let queuedCount = 0;
  let inFlight = 0;
  let closed = false;
  let sweepTimer: ReturnType<typeof setInterval> | null = null;

  // ---- pool bookkeeping ----

  function poolFor(url: URL): HostPool {
    const key = `${url.protocol}//${url.host}`;
    let pool = pools.get(key);
    if (pool === undefined) {
      const tls = url.protocol === "https:";
      const raw = url.hostname;
      const hostname = raw.startsWith("[") ? raw.slice(1, -1) : raw;
      const tlsConfig = { ...tlsOptions, ...(tls && isIP(hostname) === 0 ? { serverName: hostname } : {}) };
      pool = {
        hostname,
        port: url.port === "" ? (tls ? 443 : 80) : Number(url.port),
        tls,
        // SNI must name a host, never an address. Bun reads an empty tls object as "no TLS at all".
        tlsConfig: Object.keys(tlsConfig).length > 0 ? tlsConfig : true,
        idle: [],
        total: 0,
        queue: [],
      };
      pools.set(key, pool);
    }
    return pool;
  }

  function markClosed(conn: Conn): void {
    if (conn.state === C_IDLE) {
      const i = conn.pool.idle.lastIndexOf(conn);
      if (i !== -1) {
        conn.pool.idle.splice(i, 1);
        idleCount--;
      }
    }
    conn.state = C_CLOSED;
    if (conn.timer !== null) {
      clearTimeout(conn.timer);
      conn.timer = null;
    }
    conn.writeChunks = null;
    conn.bodyPending = false;
    if (conn.counted) {
      conn.counted = false;
      conn.pool.total--;
      openCount--;
    }
  }

  /** Close a socket we no longer want. The exchange on it, if any, must be settled by the caller first. */
  function destroyConn(conn: Conn, graceful: boolean): void {
    if (conn.state === C_CLOSED) return;
    markClosed(conn);
    conn.ex = null;
    const socket = conn.socket;
    // Bun runs the close handler synchronously in here; it finds the state closed and does nothing.
    if (socket !== null) {
      if (graceful) socket.end();
      else socket.terminate();
    }
    pump(conn.pool);
  }

  /** Give freed capacity to queued requests: a dead busy socket must not strand the queue. */
  function pump(pool: HostPool): void {
    const max = opts.maxConnsPerHost;
    while (pool.queue.length > 0 && (max === 0 || pool.total < max)) {
      const ex = pool.queue.shift()!;
      queuedCount--;
      connect(pool, ex);
    }
  }

  function release(conn: Conn): void {
    const pool = conn.pool;
    conn.ex = null;
    if (conn.paused) {
      conn.paused = false;
      conn.socket!.resume();
    }
    if (closed || conn.socket === null || conn.socket.readyState !== 1) {
      destroyConn(conn, true);
      return;
    }
    if (pool.queue.length > 0) {
      const next = pool.queue.shift()!;
      queuedCount--;
      dispatch(conn, next);
      return;
    }
    if (opts.maxIdleConns === 0) {
      destroyConn(conn, true);
      return;
    }
    if (pool.idle.length >= opts.maxIdleConns) destroyConn(pool.idle[0]!, true);
    conn.state = C_IDLE;
    conn.idleSince = performance.now();
    pool.idle.push(conn);
    idleCount++;
    if (sweepTimer === null && opts.idleConnTimeoutMs > 0) {
      sweepTimer = setInterval(sweep, Math.min(5000, Math.max(50, opts.idleConnTimeoutMs / 4)));
      sweepTimer.unref();
    }
  }

  function sweep(): void {
    const limit = performance.now() - opts.idleConnTimeoutMs;
    for (const pool of pools.values()) {
      while (pool.idle.length > 0 && pool.idle[0]!.idleSince <= limit) destroyConn(pool.idle[0]!, true);
    }
    if (idleCount === 0 && sweepTimer !== null) {
      clearInterval(sweepTimer);
      sweepTimer = null;
    }
  }

  // ---- exchange lifecycle ----

  function acquire(pool: HostPool, ex: Exchange): void {
    const expiry = opts.idleConnTimeoutMs;
    while (pool.idle.length > 0) {
      const conn = pool.idle.pop()!;
      idleCount--;
      conn.state = C_BUSY;
      // The sweep runs coarsely; never hand out a socket past its idle limit.
      if (
        (expiry > 0 && performance.now() - conn.idleSince >= expiry) ||
        conn.socket === null ||
        conn.socket.readyState !== 1
      ) {
        destroyConn(conn, true);
        continue;
      }
      dispatch(conn, ex);
      return;
    }
    const max = opts.maxConnsPerHost;
    if (max === 0 || pool.total < max) {
      connect(pool, ex);
      return;
    }
    ex.phase = X_QUEUED;
    pool.queue.push(ex);
    queuedCount++;
  }

  function connect(pool: HostPool, ex: Exchange): void {
    const conn: Conn = {
      pool,
      socket: null,
      state: C_CONNECTING,
      ex,
      parser: createResponseParser(),
      served: 0,
      idleSince: 0,
      counted: true,
      timer: null,
      writeChunks: null,
      bodyPending: false,
      writeIndex: 0,
      writeOffset: 0,
      paused: false,
    };
    pool.total++;
    openCount++;
    ex.conn = conn;
    ex.phase = X_CONNECTING;
    if (!ex.active) {
      ex.active = true;
      inFlight++;
    }
    if (opts.connectTimeoutMs > 0) {
      conn.timer = setTimeout(onConnectTimeout, opts.connectTimeoutMs, conn, "connect timed out");
    }
    try {
      Bun.connect<Conn>({
        hostname: pool.hostname,
        port: pool.port,
        data: conn,
        socket: handlers,
        ...(pool.tls ? { tls: pool.tlsConfig } : {}),
      }).catch(noop); // connectError reports the failure
    } catch (err) {
      // Bad options throw synchronously; settle like a failed connect.
      conn.ex = null;
      markClosed(conn);
      failExchange(
        ex,
        new UpstreamError("connect", `cannot connect to ${describe(pool)}: ${String(err)}`, true, err),
      );
    }
  }

  function onConnectTimeout(conn: Conn, message: string): void {
    conn.timer = null;
    if (conn.state !== C_CONNECTING) return;
    const ex = conn.ex;
    destroyConn(conn, false);
    if (ex !== null) {
      failExchange(ex, new UpstreamError("connect", `${message} (${describe(conn.pool)})`, true));
    }
  }

  function onReady(conn: Conn, socket: Socket<Conn>): void {
    if (conn.timer !== null) {
      clearTimeout(conn.timer);
      conn.timer = null;
    }
    socket.setNoDelay(true);
    if (opts.tcpKeepAliveMs > 0) socket.setKeepAlive(true, opts.tcpKeepAliveMs);
    conn.state = C_BUSY;
    const ex = conn.ex;
    // The request was aborted while connecting: the fresh socket is still good for the pool.
    if (ex === null) release(conn);
    else dispatch(conn, ex);
  }

  function dispatch(conn: Conn, ex: Exchange): void {
    conn.state = C_BUSY;
    conn.ex = ex;
    ex.conn = conn;
    ex.phase = X_WAITING;
    ex.gotByte = false;
    if (!ex.active) {
      ex.active = true;
      inFlight++;
    }
    resetResponseParser(conn.parser, ex.noBody);
    const now = performance.now();
    ex.dispatchedAt = now;
    const headerMs = opts.responseHeaderTimeoutMs;
    ex.headerAt = headerMs > 0 ? now + headerMs : Number.POSITIVE_INFINITY;
    if (ex.armed) schedule(ex, now);
    const body = ex.req.body;
    // A body still arriving is appended to the list: a copy, since a retry starts from the encoded one.
    const streaming = isStreamingBody(body);
    const chunks = ex.encoded!.chunks;
    conn.writeChunks = streaming ? [...chunks] : chunks;
    conn.writeIndex = 0;
    conn.writeOffset = 0;
    if (streaming) followBody(conn, ex, body);
    flushWrites(conn);
  }

  /** Sends a request body that is still arriving: what is here now, then each chunk as it lands. */
  function followBody(conn: Conn, ex: Exchange, body: StreamingBody): void {
    ex.unwatchBody?.();
    let sent = 0;
    const take = () => {
      if (conn.ex !== ex || conn.writeChunks === null) return;
      while (sent < body.chunks.length) conn.writeChunks.push(body.chunks[sent++]!);
      conn.bodyPending = !body.complete;
    };
    take();
    if (!conn.bodyPending) return;
    ex.unwatchBody = body.watch(() => {
      if (body.error !== undefined) {
        const err = new UpstreamError(
          "aborted",
          `the client's upload failed: ${body.error.message}`,
          !ex.gotByte,
        );
        failExchange(ex, err);
        if (conn.ex === null || conn.ex === ex) destroyConn(conn, false);
        return;
      }
      take();
      flushWrites(conn);
    });
  }

  /** Write what the socket takes now; the rest goes out from the drain handler (backpressure). */
  function flushWrites(conn: Conn): void {
    const chunks = conn.writeChunks;
    const socket = conn.socket;
    if (chunks === null || socket === null) return;
    while (conn.writeIndex < chunks.length) {
      const chunk = chunks[conn.writeIndex]!;
      const rest = chunk.byteLength - conn.writeOffset;
      const n = socket.write(chunk, conn.writeOffset, rest);
      if (n < 0) return; // closed under us: the close handler settles the exchange
      if (n < rest) {
        conn.writeOffset += n;
        return;
      }
      conn.writeIndex++;
      conn.writeOffset = 0;
    }
    if (conn.bodyPending) return;
    conn.writeChunks = null;
    // All written on a socket that never served a response: no stale-socket retry (see the module
    // notes) can need the bytes again, and a request waiting minutes for its head need not keep them.
    const ex = conn.ex;
    if (ex !== null && conn.served === 0) ex.encoded = null;
  }

  // send()'s callers hear of their answers from one microtask per batch, as promise reactions would run
  // (never inside the socket callback, nor inside send()), without a closure per exchange.
  const told: Exchange[] = [];

  function tellAll(): void {
    // Hooks may start new exchanges that land here too: the loop reads the length afresh.
    for (let i = 0; i < told.length; i++) {
      const ex = told[i]!;
      const { answer, outcome } = ex;
      ex.answer = ANSWERED;
      ex.outcome = null;
      try {
        if (outcome instanceof UpstreamError) answer.onFailure(outcome);
        else answer.onResponse(outcome!);
      } catch (error) {
        // A hook that throws breaks its contract; the other answers still go out, the error surfaces.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    told.length = 0;
  }

  function tell(ex: Exchange, outcome: Response | UpstreamError): void {
    if (!ex.hooked) {
      const answer = ex.answer;
      ex.answer = ANSWERED;
      if (outcome instanceof UpstreamError) answer.onFailure(outcome);
      else answer.onResponse(outcome);
      return;
    }
    ex.outcome = outcome;
    if (told.push(ex) === 1) queueMicrotask(tellAll);
  }

  function finishExchange(ex: Exchange): void {
    ex.phase = X_DONE;
    ex.conn = null;
    if (ex.active) {
      ex.active = false;
      inFlight--;
    }
    if (ex.timer !== null) {
      clearTimeout(ex.timer);
      ex.timer = null;
    }
    if (ex.onAbort !== null) {
      ex.req.signal?.removeEventListener("abort", ex.onAbort);
      ex.onAbort = null;
    }
    if (ex.unwatchBody !== null) {
      ex.unwatchBody();
      ex.unwatchBody = null;
    }
  }

  function failExchange(ex: Exchange, err: UpstreamError): void {
    if (ex.phase === X_DONE) return;
    if (ex.phase === X_QUEUED) {
      const i = ex.pool.queue.indexOf(ex);
      if (i !== -1) {
        ex.pool.queue.splice(i, 1);
        queuedCount--;
      }
    }
    finishExchange(ex);
    const sink = ex.sink;
    if (sink === null) {
      tell(ex, err);
      return;
    }
    if (err.kind === "aborted") {
      sink.fail(err);
      ex.req.onBodyEnd?.("cancelled", err);
      return;
    }
    // The caller may close the body with its protocol's error event instead of a broken transfer.
    const contentType = ex.head?.headers.find(([name]) => name === "content-type")?.[1] ?? null;
    const trailer = ex.req.failureTrailer?.(err, contentType, ex.lastByte);
    if (trailer) {
      sink.write(trailer);
      sink.flush();
      sink.end();
    } else {
      sink.fail(err);
    }
    ex.req.onBodyEnd?.("failed", err);
  }

  function onDeadline(ex: Exchange): void {
    const conn = ex.conn;
    const phase = ex.phase;
    if (phase === X_CONNECTING && conn !== null) conn.ex = null;
    const ms = ex.req.deadlineMs;
    failExchange(
      ex,
      new UpstreamError(
        "response_timeout",
        `response took longer than ${Math.round(ms ?? 0)} ms`,
        !ex.gotByte,
      ),
    );
    if ((phase === X_WAITING || phase === X_BODY) && conn !== null) destroyConn(conn, false);
  }

  function onAbortSignal(ex: Exchange): void {
    if (ex.phase === X_DONE) return;
    const conn = ex.conn;
    const err = new UpstreamError("aborted", "upstream request aborted", !ex.gotByte, ex.req.signal?.reason);
    const phase = ex.phase;
    if (phase === X_CONNECTING && conn !== null) conn.ex = null; // the socket may still join the pool
    failExchange(ex, err);
    if ((phase === X_WAITING || phase === X_BODY) && conn !== null) destroyConn(conn, false);
  }

  function onHeaderTimeout(ex: Exchange): void {
    const conn = ex.conn;
    failExchange(
      ex,
      new UpstreamError(
        "header_timeout",
        `no response headers within ${opts.responseHeaderTimeoutMs} ms`,
        !ex.gotByte,
      ),
    );
    if (conn !== null) destroyConn(conn, false);
  }

  // ---- late arming (see the module notes) ----

  const armsAtOnce = opts.responseHeaderTimeoutMs > 0 && opts.responseHeaderTimeoutMs <= LATE_ARM_MS;
  /** Unarmed exchanges in the order they started, so the oldest come first. */
  const unarmed: Exchange[] = [];
  let armTimer: Timer | null = null;

  function armLater(ex: Exchange): void {
    unarmed.push(ex);
    if (armTimer === null) {
      armTimer = setTimeout(armOld, LATE_ARM_MS);
      armTimer.unref();
    }
  }

  function armOld(): void {
    armTimer = null;
    const now = performance.now();
    let i = 0;
    for (; i < unarmed.length; i++) {
      const ex = unarmed[i]!;
      if (ex.phase === X_DONE || ex.armed) continue;
      if (now - ex.startedAt < LATE_ARM_MS) break;
      arm(ex, now);
    }
    unarmed.splice(0, i);
    if (unarmed.length > 0) {
      armTimer = setTimeout(armOld, Math.max(1, unarmed[0]!.startedAt + LATE_ARM_MS - now));
      armTimer.unref();
    }
  }

  /** The abort listener, the deadline and (once dispatched) the header timer, each with what is left. */
  function arm(ex: Exchange, now: number): void {
    ex.armed = true;
    const signal = ex.req.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        onAbortSignal(ex);
        return;
      }
      ex.onAbort = () => onAbortSignal(ex);
      signal.addEventListener("abort", ex.onAbort, { once: true });
    }
    const deadline = ex.req.deadlineMs ?? 0;
    if (deadline > 0) ex.deadlineAt = ex.startedAt + deadline;
    schedule(ex, now);
  }

  // One timer per exchange for all of its limits: the deadline, and the header wait (while waiting for
  // the head) or the read gap (while the body streams). It is not moved on every chunk or phase change:
  // when it fires it checks what is due by then and sets itself again for the next limit, so a stream
  // costs one timer and a wake-up per read gap, a waiting request one timer, not one per limit.

  /** When the exchange's next limit falls due (Infinity: none). */
  function dueAt(ex: Exchange, now: number): number {
    let at = ex.deadlineAt;
    if (ex.phase === X_WAITING) {
      if (ex.headerAt < at) at = ex.headerAt;
    } else if (ex.phase === X_BODY && opts.readTimeoutMs > 0) {
      // A paused socket waits on our consumer, not on the upstream: that gap does not count.
      const gapAt = (ex.conn?.paused ? now : ex.lastRead) + opts.readTimeoutMs;
      if (gapAt < at) at = gapAt;
    }
    return at;
  }

  /** Sets the timer for the next limit, unless it already fires sooner (it looks again then). */
  function schedule(ex: Exchange, now: number): void {
    const at = dueAt(ex, now);
    if (ex.timer !== null) {
      if (ex.timerAt <= at) return;
      clearTimeout(ex.timer);
      ex.timer = null;
    }
    if (at === Number.POSITIVE_INFINITY) return;
    ex.timerAt = at;
    ex.timer = setTimeout(onTimer, Math.max(0, at - now), ex);
  }

  function onTimer(ex: Exchange): void {
    ex.timer = null;
    if (ex.phase === X_DONE) return;
    // Timers may fire a little early: within 1 ms counts as due.
    const now = performance.now() + 1;
    if (now >= ex.deadlineAt) {
      onDeadline(ex);
      return;
    }
    if (ex.phase === X_WAITING && now >= ex.headerAt) {
      onHeaderTimeout(ex);
      return;
    }
    const conn = ex.conn;
    const limit = opts.readTimeoutMs;
    if (ex.phase === X_BODY && conn !== null && limit > 0 && !conn.paused && now - ex.lastRead >= limit) {
      failExchange(ex, new UpstreamError("read_timeout", `no body bytes for ${limit} ms`, false));
      destroyConn(conn, false);
      return;
    }
    schedule(ex, now - 1);
  }

  function responseInit(ex: Exchange, head: ResponseHead): ResponseInit {
    const headers =
      ex.req.responseHeaders === undefined ? head.headers : ex.req.responseHeaders(head.headers);
    return { status: head.status, statusText: head.statusText, headers };
  }

  /** What the consumer of a streamed body does to its exchange: pause or resume the socket, or drop
   * both (a class: one object per stream, no closures). */
  class SinkHooks implements BodySinkHooks {
    constructor(
      private readonly conn: Conn,
      private readonly ex: Exchange,
    ) {}

    pause(): void {
      const { conn, ex } = this;
      if (ex.conn === conn && !conn.paused) {
        conn.paused = true;
        conn.socket?.pause();
      }
    }

    resume(): void {
      const { conn, ex } = this;
      if (ex.conn === conn && conn.paused) {
        conn.paused = false;
        ex.lastRead = performance.now();
        conn.socket?.resume();
      }
    }

    cancel(): void {
      // The consumer dropped the body: the rest of this response must never reach another request.
      const { conn, ex } = this;
      if (ex.phase === X_DONE) return;
      finishExchange(ex);
      destroyConn(conn, false);
      ex.req.onBodyEnd?.("cancelled");
    }
  }

  function startStreaming(conn: Conn, ex: Exchange, head: ResponseHead): void {
    const sink = new BodySink(opts.streamBufferSize, new SinkHooks(conn, ex));
    const res = new Response(sink.stream, responseInit(ex, head));
    ex.sink = sink;
    ex.phase = X_BODY;
    if (opts.readTimeoutMs > 0) {
      const now = performance.now();
      ex.lastRead = now;
      schedule(ex, now);
    }
    tell(ex, res);
  }

  function completeExchange(conn: Conn, ex: Exchange, leftover: boolean): void {
    const sink = ex.sink;
    const keepAlive = ex.head!.keepAlive;
    finishExchange(ex);
    sink?.end();
    ex.req.onBodyEnd?.("complete");
    conn.served++;
    // Bytes after the response (we never pipeline), an unfinished request write, or Connection: close
    // from either side all make the socket unfit for the next request.
    if (keepAlive && !leftover && conn.writeChunks === null && !ex.closeAfter) release(conn);
    else destroyConn(conn, true);
  }

  function onData(conn: Conn, data: Buffer): void {
    const ex = conn.ex;
    if (ex === null || conn.state !== C_BUSY || (ex.phase !== X_WAITING && ex.phase !== X_BODY)) {
      // Bytes on an idle socket (a late 408, garbage): its framing can no longer be trusted.
      destroyConn(conn, false);
      return;
    }
    ex.gotByte = true;
    if (ex.phase === X_BODY) ex.lastRead = performance.now();
    const p = conn.parser;
    let offset = 0;
    try {
      for (;;) {
        const ev = parseNext(p, data, offset);
        if (ev === NEED_MORE) break;
        offset = p.offset;
        if (ev === HEAD) {
          const head = p.head!;
          ex.head = head;
          // Nothing replays the request once its answer began: a long stream need not keep its body.
          ex.encoded = null;
          if (head.bodyMode === "none") {
            tell(ex, new Response(null, responseInit(ex, head)));
          } else if (head.bodyMode === "length" && data.length - offset >= head.contentLength) {
            ex.fastPath = true;
          } else {
            startStreaming(conn, ex, head);
          }
          continue;
        }
        if (ev === BODY) {
          if (ex.fastPath) {
            // Bun hands every data callback a fresh buffer (measured), so a view is safe to keep.
            ex.req.onChunk?.(p.chunk!);
            tell(ex, new Response(p.chunk, responseInit(ex, ex.head!)));
          } else {
            const chunk = p.chunk!;
            if (chunk.byteLength > 0) ex.lastByte = chunk[chunk.byteLength - 1];
            ex.req.onChunk?.(chunk);
            ex.sink!.write(chunk);
            if (conn.ex !== ex) return; // the consumer went away during the write
          }
          continue;
        }
        if (ev === DONE) {
          completeExchange(conn, ex, offset < data.length);
          return;
        }
      }
    } catch (err) {
      const upstreamErr =
        err instanceof UpstreamError
          ? err
          : new UpstreamError("protocol", `upstream sent an invalid response: ${String(err)}`, false, err);
      failExchange(ex, upstreamErr);
      destroyConn(conn, false);
      return;
    }
    ex.sink?.flush();
  }

  function onRemoteClose(conn: Conn, cause: Error | undefined): void {
    if (conn.state === C_CLOSED) return;
    const wasConnecting = conn.state === C_CONNECTING;
    const pool = conn.pool;
    const ex = conn.ex;
    conn.ex = null;
    markClosed(conn);
    if (ex !== null && ex.phase !== X_DONE) {
      if (wasConnecting) {
        failExchange(
          ex,
          new UpstreamError("connect", `connection closed while connecting (${describe(pool)})`, true, cause),
        );
      } else if (ex.phase === X_BODY) {
        if (parseEof(conn.parser)) completeExchange(conn, ex, false);
        else
          failExchange(
            ex,
            new UpstreamError("reset", "upstream closed the connection mid-body", false, cause),
          );
      } else if (!ex.gotByte && conn.served > 0 && !ex.retried) {
        // A reused socket the upstream closed as we wrote (its keep-alive ran out): it never read the
        // request, so send it once more on a fresh connection. See the module notes on methods.
        ex.retried = true;
        connect(pool, ex);
      } else {
        failExchange(
          ex,
          new UpstreamError(
            "reset",
            ex.gotByte
              ? "upstream closed the connection inside the response head"
              : "upstream closed the connection before responding",
            !ex.gotByte,
            cause,
          ),
        );
      }
    }
    pump(pool);
  }

  const handlers: SocketHandler<Conn> = {
    open(socket) {
      const conn = socket.data;
      conn.socket = socket;
      if (conn.state === C_CLOSED) {
        // Abandoned (connect timeout) before it opened.
        socket.terminate();
        return;
      }
      if (!conn.pool.tls) {
        onReady(conn, socket);
        return;
      }
      // TLS: wait for the handshake handler, under its own timer.
      if (conn.timer !== null) clearTimeout(conn.timer);
      conn.timer =
        opts.tlsHandshakeTimeoutMs > 0
          ? setTimeout(onConnectTimeout, opts.tlsHandshakeTimeoutMs, conn, "TLS handshake timed out")
          : null;
    },
    handshake(socket, success, authorizationError) {
      const conn = socket.data;
      if (conn.state !== C_CONNECTING) {
        socket.terminate(); // abandoned while the handshake ran
        return;
      }
      if (success) {
        onReady(conn, socket);
        return;
      }
      const ex = conn.ex;
      conn.ex = null;
      destroyConn(conn, false);
      if (ex !== null) {
        const reason = authorizationError?.message ?? "handshake failed";
        failExchange(
          ex,
          new UpstreamError(
            "tls",
            `TLS with ${describe(conn.pool)} failed: ${reason}`,
            true,
            authorizationError,
          ),
        );
      }
    },
    connectError(socket, error) {
      const conn = socket.data;
      if (conn.state === C_CLOSED) return;
      const ex = conn.ex;
      conn.ex = null;
      markClosed(conn);
      if (ex !== null) {
        const code = (error as { code?: string }).code;
        failExchange(
          ex,
          new UpstreamError(
            "connect",
            `cannot connect to ${describe(conn.pool)}: ${code ?? error.message}`,
            true,
            error,
          ),
        );
      }
      pump(conn.pool);
    },
    data(socket, data) {
      onData(socket.data, data);
    },
    drain(socket) {
      flushWrites(socket.data);
    },
    end(socket) {
      onRemoteClose(socket.data, undefined);
    },
    close(socket, error) {
      onRemoteClose(socket.data, error);
    },
    error(socket, error) {
      // A socket error (reset) or a throw in one of our handlers: either way this socket is done.
      const conn = socket.data;
      if (conn.state === C_CLOSED) return;
      onRemoteClose(conn, error);
      socket.terminate();
    },
  };

  /** Starts an exchange that tells `answer` how it went; a request refused at once gets the error back
   * instead (`answer` is not told). */
  function start(req: UpstreamRequest, answer: AnswerHooks, hooked: boolean): UpstreamError | undefined {
    const signal = req.signal;
    if (signal?.aborted) return new UpstreamError("aborted", "upstream request aborted", true, signal.reason);
    const url = req.url;
    let target = targets.get(url);
    if (target === undefined) {
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return new UpstreamError("connect", `unsupported protocol ${url.protocol}`, true);
      }
      targets.set(url, (target = { pool: poolFor(url), authority: authorityOf(url) }));
    }
    const pool = target.pool;
    const encoded = encodeRequest(req, target.authority);
    const ex: Exchange = {
      req,
      encoded,
      closeAfter: encoded.closeAfter,
      noBody: req.method === "HEAD",
      answer,
      hooked,
      outcome: null,
      phase: X_QUEUED,
      pool,
      conn: null,
      gotByte: false,
      retried: false,
      active: false,
      startedAt: performance.now(),
      dispatchedAt: 0,
      armed: false,
      timer: null,
      timerAt: 0,
      deadlineAt: Number.POSITIVE_INFINITY,
      headerAt: Number.POSITIVE_INFINITY,
      lastByte: undefined,
      lastRead: 0,
      head: null,
      fastPath: false,
      sink: null,
      onAbort: null,
      unwatchBody: null,
    };
    const deadline = req.deadlineMs ?? 0;
    if (armsAtOnce || (deadline > 0 && deadline <= LATE_ARM_MS)) arm(ex, ex.startedAt);
    else if (signal !== undefined || deadline > 0 || opts.responseHeaderTimeoutMs > 0) armLater(ex);
    if (ex.phase !== X_DONE) acquire(pool, ex);
    return undefined;
  }

  return {
    request(req) {
      return new Promise<Response>((resolve, reject) => {
        const refused = start(req, { onResponse: resolve, onFailure: reject }, false);
        if (refused !== undefined) reject(refused);
      });
    },
    send(req) {
      const refused = start(req, req, true);
      if (refused !== undefined) refuseLater(req, refused);
    },
    close() {
      closed = true;
      for (const pool of pools.values()) {
        while (pool.idle.length > 0) destroyConn(pool.idle[pool.idle.length - 1]!, true);
      }
      if (sweepTimer !== null) {
        clearInterval(sweepTimer);
        sweepTimer = null;
      }
      if (armTimer !== null) {
        clearTimeout(armTimer);
        armTimer = null;
      }
    },
    stats() {
      return { open: openCount, idle: idleCount, queued: queuedCount, inFlight };
    },
  };
}

/** Tells send()'s caller of a refusal from a microtask, never inside send() (a function of its own: a
 * closure in send() would give every call a scope object). */
function refuseLater(req: AnswerHooks, refused: UpstreamError): void {
  queueMicrotask(() => req.onFailure(refused));
}

function describe(pool: HostPool): string {
  return `${pool.tls ? "https" : "http"}://${pool.hostname}:${pool.port}`;
}
