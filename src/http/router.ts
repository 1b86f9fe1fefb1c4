// The route table: exact paths first, then the longest matching prefix; wrong method → 405 with Allow.

import { apiFamily, errorResponse } from "./errors.ts";

/** What a handler may ask of the server without knowing it is Bun's. */
export interface ServerHandle {
  /** Seconds this request's connection may stay idle; 0 = never cut (long streams). */
  timeout(request: Request, seconds: number): void;
}

/** What one request did, filled in along the way; ends up in the access log and the stats. */
export interface RequestRecord {
  requestId: string;
  method: string;
  path: string;
  /** Query string as received (the access log redacts secrets in it). */
  search: string;
  clientIp: string | undefined;
  /** The TCP peer (clientIp may come from a trusted proxy's header instead). */
  peer: string | undefined;
  /** performance.now() at arrival, and when the request was over (0 until then). */
  started: number;
  endedAt: number;
  status: number;
  endpoint?: string;
  model?: string;
  bytesIn: number;
  bytesOut: number;
  /** Request arrival to the first body byte of a streamed answer. */
  ttftMs?: number;
  /** From the first body byte to the end of the answer. */
  streamMs?: number;
  usage?: { input: number; output: number; generationMs?: number };
  /** Why the request failed, when it did (see stats/request-stats.ts). */
  failure?: string;
  /** Endpoints tried before the one that answered (failover), with why each failed. */
  attempts?: { endpoint: string; failure: string }[];
  /** What the sticky-session pin did (hit, miss, repin, disabled), with sticky sessions on. */
  stickyOutcome?: string;
  /** Set by a handler whose answer streams on: the record is finished when the body ends, not now. */
  deferred: boolean;
  /** Set by a handler whose answer already carries X-Olla-Request-ID (made with the endpoint's headers):
   * the server then leaves the Response's headers alone. */
  idHeaderSent?: boolean;
}

export interface RouteContext {
  url: URL;
  server: ServerHandle;
  record: RequestRecord;
  /** Finishes a deferred record (call once, when the streamed body ends). Called as a method. */
  finish(): void;
  /** Tells `listener` once, right after finish(): for a route that keeps counts of its own (one listener). */
  whenFinished(listener: (record: RequestRecord) => void): void;
  /** The request is on its way to record.endpoint (once per attempt: failover calls it again). */
  dispatched(): void;
  /**
   * For a handler that answers later: the promise to return (call once), settled by answer() or fail().
   * The server completes the answer (request id, guard and CORS headers) inside answer(), so it puts no
   * reaction of its own on the promise: a request waiting minutes for a cold model keeps less.
   */
  later(): Promise<Response>;
  /** Settles later()'s promise with this answer (the first call only). */
  answer(response: Response): void;
  /** Settles later()'s promise with a 500 for a failure of olla's own. */
  fail(error: unknown): void;
}

export type Handler = (request: Request, context: RouteContext) => Response | Promise<Response>;

export interface Route {
  /** Methods served; GET routes also answer HEAD. */
  methods: readonly string[];
  path: string;
  /** Matches every path under `path` (which should end in "/"). */
  prefix?: boolean;
  handler: Handler;
}

export type Router = (request: Request, context: RouteContext) => Response | Promise<Response>;

export function createRouter(routes: readonly Route[]): Router {
  const exact = new Map<string, Route[]>();
  // Prefix routes grouped by prefix, longest first: a request finds its group without arrays of its own.
  const prefixes: { path: string; routes: Route[] }[] = [];
  for (const route of routes) {
    if (!route.prefix) {
      exact.set(route.path, [...(exact.get(route.path) ?? []), route]);
      continue;
    }
    const group = prefixes.find((candidate) => candidate.path === route.path);
    if (group) group.routes.push(route);
    else prefixes.push({ path: route.path, routes: [route] });
  }
  prefixes.sort((a, b) => b.path.length - a.path.length);

  const dispatch = (candidates: Route[], request: Request, context: RouteContext) => {
    const method = request.method === "HEAD" ? "GET" : request.method;
    for (const route of candidates)
      if (route.methods.includes(method)) return route.handler(request, context);
    const allow = [...new Set(candidates.flatMap((candidate) => candidate.methods))];
    if (allow.includes("GET")) allow.push("HEAD");
    return errorResponse(apiFamily(context.record.path), 405, `method ${request.method} not allowed here`, {
      headers: { allow: allow.join(", ") },
    });
  };

  return (request, context) => {
    const path = context.record.path;
    const matches = exact.get(path);
    if (matches) return dispatch(matches, request, context);
    for (const group of prefixes)
      if (path.startsWith(group.path)) return dispatch(group.routes, request, context);
    return errorResponse(apiFamily(path), 404, `no route for ${request.method} ${path}`, {
      code: "not_found",
    });
  };
}
