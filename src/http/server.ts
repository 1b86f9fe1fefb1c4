// Bun.serve wiring: request ids, the route table, JSON errors, and a graceful stop that lets
// in-flight requests finish within a deadline. The one place that talks to Bun's server API.

import type { Logger } from "../log/index.ts";
import type { Cors } from "./cors.ts";
import { apiFamily, errorResponse } from "./errors.ts";
import { requestIdFor } from "./request-id.ts";
import { requestTarget } from "./request-target.ts";
import type { RequestRecord, RouteContext, Router, ServerHandle } from "./router.ts";

/** Runs before the route table: a Response stops the request there (401, 403, 429); headers are added
 * to whatever answer the request gets (rate-limit headers). */
export type Guard = (
  request: Request,
  context: RouteContext,
) =>
  | { response?: Response; headers?: Record<string, string> }
  | undefined
  | Promise<{ response?: Response; headers?: Record<string, string> } | undefined>;

export interface HttpServerOptions {
  host: string;
  port: number;
  /** Seconds an idle keep-alive client connection stays open (0 = forever; Bun caps at 255). */
  idleTimeoutSeconds: number;
  /** Largest body Bun itself accepts; olla's own limit answers first with a JSON 413. */
  maxRequestBodySize: number;
  router: Router;
  logger: Logger;
  /** Present when server.cors is enabled. */
  cors?: Cors;
  /** The client's address for a request (trusted proxy headers applied); defaults to the TCP peer. */
  clientIp?: (request: Request, peer: string | undefined) => string | undefined;
  guard?: Guard;
  /** Told once per request when it is over (for streamed answers: when the body ends). */
  onRequestEnd?: (record: RequestRecord) => void;
  /** Told each time a request is sent to an endpoint (record.endpoint). */
  onDispatch?: (record: RequestRecord) => void;
}

export interface HttpServer {
  url: URL;
  port: number;
  /** Requests being served right now. */
  pending(): number;
  /** Stops accepting, waits up to graceMs for in-flight requests, then cuts what is left. */
  stop(graceMs: number): Promise<{ drained: boolean }>;
}

/** The listener could not be opened (port taken, address not on this machine, no permission). */
export class ListenError extends Error {
  constructor(host: string, port: number, cause: unknown) {
    super(
      `cannot listen on ${host}:${port}: ${String((cause as Error)?.message ?? cause).replace(/[.?!]+$/, "")}. ` +
        "Another program (or a connection still closing) may hold the port: pick another with " +
        "server.port / OLLA_SERVER_PORT, or check server.host / OLLA_SERVER_HOST.",
    );
    this.name = "ListenError";
  }
}

/** What the server does when a request is over, or sent to an endpoint, or its later answer is ready. */
interface Lifecycle {
  ended(record: RequestRecord): void;
  dispatched?: (record: RequestRecord) => void;
  /** The answer on its way out, completed (see completeAnswer). */
  complete(response: Response, context: RequestContext): Response;
  /** The 500 for a failure of olla's own while handling the request. */
  internalError(error: unknown, context: RequestContext): Response;
}

/** One per request, and its own record: one object, not two, for every request (thousands may wait at
 * once for a cold model load). Methods on the prototype, so a request allocates no closures for them.
 * Every record field is set from the start: one object shape for all records, whatever each request
 * fills in, keeps the code that reads them (stats, access log) monomorphic. */
class RequestContext implements RouteContext, RequestRecord {
  endedAt = 0;
  status = 0;
  endpoint: string | undefined = undefined;
  model: string | undefined = undefined;
  bytesOut = 0;
  ttftMs: number | undefined = undefined;
  streamMs: number | undefined = undefined;
  usage: RequestRecord["usage"] = undefined;
  failure: string | undefined = undefined;
  attempts: RequestRecord["attempts"] = undefined;
  stickyOutcome: string | undefined = undefined;
  deferred = false;
  idHeaderSent = false;
  /** Guard headers and (CORS on) the request, for completing the answer (see answer). */
  extra: Record<string, string> | undefined = undefined;
  corsRequest: Request | undefined = undefined;
  /** later() was called: the handler's promise is settled by answer() with a completed answer. */
  answersLater = false;
  private finished = false;
  private finishListener: ((record: RequestRecord) => void) | undefined = undefined;
  private parsed: URL | undefined = undefined;
  private resolveAnswer: ((response: Response) => void) | undefined = undefined;

  constructor(
    /** request.url as Bun gives it (see requestTarget). */
    private readonly rawUrl: string,
    /** Where a relative rawUrl is resolved: the address the client connected to. */
    private readonly base: URL,
    readonly server: ServerHandle,
    private readonly lifecycle: Lifecycle,
    readonly requestId: string,
    readonly method: string,
    readonly path: string,
    readonly search: string,
    readonly clientIp: string | undefined,
    readonly peer: string | undefined,
    readonly started: number,
    public bytesIn: number,
  ) {}

  get record(): RequestRecord {
    return this;
  }

  /** Parsed on first use only: the proxy path needs just record.path and record.search. */
  get url(): URL {
    return (this.parsed ??= new URL(this.rawUrl, this.base));
  }

  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.lifecycle.ended(this);
    if (this.finishListener !== undefined) this.finishListener(this);
  }

  whenFinished(listener: (record: RequestRecord) => void): void {
    this.finishListener = listener;
  }

  dispatched(): void {
    this.lifecycle.dispatched?.(this);
  }

  later(): Promise<Response> {
    this.answersLater = true;
    // Only resolve is kept: a failure is answered with a 500, never a rejection.
    return new Promise<Response>((resolve) => {
      this.resolveAnswer = resolve;
    });
  }

  answer(response: Response): void {
    const resolve = this.resolveAnswer;
    if (resolve === undefined) return;
    this.resolveAnswer = undefined;
    let completed: Response;
    try {
      completed = this.lifecycle.complete(response, this);
    } catch (error) {
      // Completing it failed (a CORS or guard header): the client still gets an answer.
      this.extra = undefined;
      this.corsRequest = undefined;
      completed = this.lifecycle.complete(this.lifecycle.internalError(error, this), this);
    }
    resolve(completed);
  }

  fail(error: unknown): void {
    this.answer(this.lifecycle.internalError(error, this));
  }
}

export function startHttpServer(options: HttpServerOptions): HttpServer {
  const { router, logger, cors } = options;
  let handle: ServerHandle;
  // Requests that are over are told about in one batch at the end of the current task (a microtask, not
  // setImmediate: another turn of the event loop per request costs more CPU than the work itself).
  const ended: RequestRecord[] = [];
  const drainEnded = () => {
    for (let i = 0; i < ended.length; i++) {
      // One failing record must not stall the queue (and with it every later log line and count).
      try {
        options.onRequestEnd?.(ended[i]!);
      } catch (error) {
        logger.error("request bookkeeping failed", { request_id: ended[i]!.requestId, error });
      }
    }
    ended.length = 0;
  };

  const lifecycle: Lifecycle = {
    ended(record) {
      if (!options.onRequestEnd) return;
      record.endedAt = performance.now();
      if (ended.push(record) === 1) queueMicrotask(drainEnded);
    },
    dispatched: options.onDispatch,
    complete: completeAnswer,
    internalError,
  };

  /** A guard that had to wait (a shared rate-limit store): the rest of the request after it. */
  async function guardedLater(
    pending: ReturnType<Guard>,
    request: Request,
    context: RequestContext,
  ): Promise<Response> {
    let response: Response;
    try {
      const guarded = await pending;
      context.extra = guarded?.headers;
      response = guarded?.response ?? (await router(request, context));
      // Completed already by the context (see RequestContext.answer).
      if (context.answersLater) return response;
    } catch (error) {
      response = internalError(error, context);
    }
    return completeAnswer(response, context);
  }

  /** completeAnswer once the handler's answer is ready. A function of its own: a closure in the fetch
   * handler would give every request a scope object, the ones answered at once included. */
  function completeLater(response: Promise<Response>, context: RequestContext): Promise<Response> {
    return response.then(
      (answer) => completeAnswer(answer, context),
      (error: unknown) => completeAnswer(internalError(error, context), context),
    );
  }

  /** The answer to a request whose handling threw. */
  function internalError(error: unknown, context: RequestContext): Response {
    const record = context.record;
    logger.error("request failed", { request_id: record.requestId, path: record.path, error });
    record.deferred = false;
    record.idHeaderSent = false;
    return errorResponse(apiFamily(record.path), 500, "internal error in olla", { code: "internal_error" });
  }

  /** What every answer gets on its way out (request id, the context's guard and CORS headers); an answer
   * that is not streamed on is over for the record now. */
  function completeAnswer(response: Response, context: RequestContext): Response {
    const { extra, corsRequest } = context;
    const record = context.record;
    const requestId = record.requestId;
    // Reading response.headers makes a Headers object per answer: skipped when the id is in already.
    if (!record.idHeaderSent) response.headers.set("x-olla-request-id", requestId);
    // Anthropic's SDKs report this header with every error.
    if (record.path.startsWith("/olla/anthropic/")) response.headers.set("request-id", requestId);
    if (extra) for (const name in extra) response.headers.set(name, extra[name]!);
    if (corsRequest) cors?.decorate(corsRequest, response);
    record.status = response.status;
    if (!record.deferred) {
      if (record.bytesOut === 0) record.bytesOut = Number(response.headers.get("content-length") ?? 0) || 0;
      context.finish();
    }
    return response;
  }

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = listen();
  } catch (error) {
    throw new ListenError(options.host, options.port, error);
  }
  // Bun makes a new URL on each read of server.url.
  const listenUrl = server.url;

  function listen() {
    return Bun.serve({
      hostname: options.host,
      port: options.port,
      development: false,
      // development: false turns SO_REUSEPORT on in Bun 1.4.5: a second olla on the same port would start
      // and take half the requests. Off, it fails with ListenError as any taken port does.
      reusePort: false,
      idleTimeout: Math.min(255, Math.max(0, Math.round(options.idleTimeoutSeconds))),
      maxRequestBodySize: options.maxRequestBodySize,
      fetch(request, bun) {
        const started = performance.now();
        // No URL object per request: routes that want one parse it (RequestContext.url).
        const rawUrl = request.url;
        const { path, search } = requestTarget(rawUrl);
        const requestId = requestIdFor(request.headers);
        const peer = bun.requestIP(request)?.address;
        const context = new RequestContext(
          rawUrl,
          listenUrl,
          handle,
          lifecycle,
          requestId,
          request.method,
          path,
          search,
          options.clientIp ? options.clientIp(request, peer) : peer,
          peer,
          started,
          Number(request.headers.get("content-length") ?? 0) || 0,
        );
        // Not an async function: its frame would keep the Request and every local here until the
        // answer's head arrives, which can take minutes (a cold model load) for thousands of requests.
        // Only CORS needs the Request at the end.
        context.corsRequest = cors ? request : undefined;
        let response: Response | Promise<Response>;
        try {
          const preflight = cors?.preflight(request);
          // Guards answer synchronously unless a shared (Redis) store is involved: no await, no extra turn.
          const guarded = preflight ? undefined : options.guard?.(request, context);
          if (guarded instanceof Promise) return guardedLater(guarded, request, context);
          context.extra = guarded?.headers;
          response = preflight ?? guarded?.response ?? router(request, context);
        } catch (error) {
          response = internalError(error, context);
        }
        if (response instanceof Promise) {
          // The context's own promise (later()) settles with a completed answer: nothing to add.
          return context.answersLater ? response : completeLater(response, context);
        }
        return completeAnswer(response, context);
      },
      error(error) {
        logger.error("unhandled server error", { error });
        return errorResponse("openai", 500, "internal error in olla", { code: "internal_error" });
      },
    });
  }

  handle = {
    timeout: (request, seconds) => server.timeout(request, seconds),
  };

  return {
    url: listenUrl,
    port: server.port ?? options.port,
    pending: () => server.pendingRequests,
    async stop(graceMs) {
      const drained = server.stop(false).then(() => true);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const finished = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (!finished) await server.stop(true);
      return { drained: finished };
    },
  };
}
