// The proxy route: /olla/<path>, /olla/proxy/<path> and /olla/<provider>/<path>. Reads the body
// once, picks an endpoint, streams the answer back, and fails over to the next candidate when an
// endpoint cannot be reached before it has sent anything.

import type { Endpoint } from "../endpoints/index.ts";
import { type ApiFamily, apiFamily, errorResponse } from "../http/errors.ts";
import type { Handler, RequestRecord, Route, RouteContext } from "../http/router.ts";
import type { Logger } from "../log/index.ts";
import { type PlatformProfile, prefixAdmits } from "../profiles/profile.ts";
import {
  availableModels,
  type Balancer,
  type EndpointCatalogue,
  type Fallback,
  keySourceOf,
  type ModelRoute,
  type ModelRoutingInput,
  routeByModel,
  SESSION_HEADER,
  type StickySessions,
  type Strategy,
} from "../routing/index.ts";
import { clientResponseHeaders, upstreamRequestHeaders } from "./headers.ts";
import {
  type BodyFacts,
  BodyTimeoutError,
  BodyTooLargeError,
  bodyPrefix,
  inspectBody,
  readBody,
  rewriteModel,
  STREAM_BODY_MIN,
  streamRequestBody,
  wholeBody,
} from "./inspect.ts";
import type { AnswerFailure, ApiAdapter, PreparedRequest } from "./api-adapter.ts";
import { type BodyWaiter, unwatchBody, watchBody } from "./body-deadlines.ts";
import { AnswerObserver } from "./observe.ts";
import { errorTrailer, streamFormat } from "./stream.ts";
import { cleanPath, upstreamPath } from "./target.ts";
import {
  type AnswerHooks,
  type BodyOutcome,
  type HeaderPairs,
  type StreamingBody,
  type UpstreamClient,
  UpstreamError,
  type UpstreamRequest,
} from "./upstream/index.ts";

export interface ProxyDeps {
  endpoints: readonly Endpoint[];
  profiles: readonly PlatformProfile[];
  balancer: Balancer;
  client: UpstreamClient;
  /** Takes an endpoint out of rotation after a connection failure (passive health). */
  reportFailure: (endpoint: Endpoint, reason: string) => void;
  isRoutable: (endpoint: Endpoint) => boolean;
  maxBodySize: number;
  /** server.read_timeout: the whole request body must arrive within this of the request (0 = none). */
  readTimeoutMs: number;
  /** Whole-response deadline (0 = none). */
  responseTimeoutMs: number;
  /** server.write_timeout: each answer must be complete this long after its request arrived (0 = none). */
  writeTimeoutMs: number;
  /** Model-aware routing; absent when model discovery is off. */
  models?: ModelRouting;
  /** server.auth is on: the client's Authorization / x-api-key belong to olla, not the endpoint. */
  clientKeysAreOurs?: boolean;
  /** proxy.sticky_sessions, when enabled. */
  sticky?: StickySessions;
  /** Told each time a request body is refused for its size (413), for the security counters. */
  onSizeLimited?: () => void;
  logger: Logger;
}

/** Which endpoints a route prefix may use: all of them, or one platform's (a hard boundary: no spill-over). */
interface Scope {
  /** The platform named in messages ("no lm-studio endpoints ..."); none when any platform will do. */
  label: string | undefined;
  accepts: (endpoint: Endpoint) => boolean;
  /** The last answer of endpointsIn, with the platform each endpoint had then. */
  members?: { of: readonly Endpoint[]; profiles: PlatformProfile[]; list: readonly Endpoint[] };
}

const ANY: Scope = { label: undefined, accepts: () => true };

/** Answers small, complete, non-streamed bodies from memory (no stream plumbing per request). */
const BUFFER_LIMIT = 256 * 1024;

/** Where `model` is looked for in a streamed body; it is nearly always the first key. */
const INSPECT_PREFIX = 64 * 1024;

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;

/** Each profile list's scopes by route prefix, built once, not per request. */
const scopes = new WeakMap<readonly PlatformProfile[], ReadonlyMap<string, Scope>>();

function scopesByPrefix(profiles: readonly PlatformProfile[]): ReadonlyMap<string, Scope> {
  let byPrefix = scopes.get(profiles);
  if (byPrefix) return byPrefix;
  const built = new Map<string, Scope>();
  for (const profile of profiles) {
    const scope: Scope = {
      label: profile.name,
      accepts: prefixAdmits(profile),
    };
    // The first profile that claims a prefix keeps it.
    for (const prefix of profile.prefixes) if (!built.has(prefix)) built.set(prefix, scope);
  }
  scopes.set(profiles, (byPrefix = built));
  return byPrefix;
}

const adapterScopes = new WeakMap<ApiAdapter, Scope>();

/** An adapted route's endpoints: any platform the adapter can talk to. */
function adapterScope(adapter: ApiAdapter): Scope {
  let scope = adapterScopes.get(adapter);
  if (scope === undefined)
    adapterScopes.set(adapter, (scope = { label: undefined, accepts: adapter.accepts }));
  return scope;
}

/** The endpoints a scope takes, as an array kept between requests while no endpoint changes platform
 * (only `type: auto` detection does): no filtered copy per request. */
function endpointsIn(scope: Scope, all: readonly Endpoint[]): readonly Endpoint[] {
  if (scope === ANY) return all;
  const members = scope.members;
  if (members !== undefined && members.of === all && members.profiles.length === all.length) {
    let same = true;
    for (let i = 0; i < all.length && same; i++) same = all[i]!.profile === members.profiles[i];
    if (same) return members.list;
  }
  const list = all.filter(scope.accepts);
  scope.members = { of: all, profiles: all.map((endpoint) => endpoint.profile), list };
  return list;
}

function scopeFor(prefix: string, profiles: readonly PlatformProfile[]): Scope | undefined {
  return prefix === "proxy" ? ANY : scopesByPrefix(profiles).get(prefix);
}

/** Splits /olla/<...> into the endpoint scope and the path to forward. */
export function resolveRoute(
  pathname: string,
  profiles: readonly PlatformProfile[],
): { scope: Scope; path: string } {
  const rest = pathname.slice("/olla".length);
  const slash = rest.indexOf("/", 1);
  const first = slash < 0 ? rest.slice(1) : rest.slice(1, slash);
  const scope = scopeFor(first, profiles);
  if (scope) return { scope, path: cleanPath(slash < 0 ? "/" : rest.slice(slash)) };
  return { scope: ANY, path: cleanPath(rest) };
}

export interface ModelRouting {
  strategy: Strategy;
  fallback: Fallback;
  catalogue: (endpoint: Endpoint) => EndpointCatalogue;
  /** For the discovery strategy: ask these endpoints again (bounded by discoveryTimeoutMs). */
  refresh: (endpoints: readonly Endpoint[]) => Promise<void>;
  discoveryTimeoutMs: number;
  /** Refresh on a miss with the other strategies too. */
  refreshOnMiss: boolean;
  /** model_aliases: alias → backend names. */
  aliases: Readonly<Record<string, readonly string[]>>;
  /** The unified catalogue's other names for a model. */
  related?: (model: string) => readonly string[];
}

const SPEAKS_OLLAMA = (endpoint: Endpoint) => endpoint.profile.name === "ollama";
const SPEAKS_OPENAI = (endpoint: Endpoint) => endpoint.profile.openaiCompatible;

/** The platforms that can answer a path: Ollama's native /api/ paths, or the OpenAI API. */
function speaksPath(path: string): (endpoint: Endpoint) => boolean {
  return /^\/(olla\/([^/]+\/)?)?api\//.test(path) ? SPEAKS_OLLAMA : SPEAKS_OPENAI;
}

/** X-Olla-Routing-* pairs per decision and reason (a handful of each), made once: not per request. */
const routingPairs = new WeakMap<ModelRouting, Map<string, Map<string, HeaderPairs>>>();

function routingHeaders(models: ModelRouting, route: ModelRoute): HeaderPairs {
  let byDecision = routingPairs.get(models);
  if (byDecision === undefined) routingPairs.set(models, (byDecision = new Map()));
  let byReason = byDecision.get(route.decision);
  if (byReason === undefined) byDecision.set(route.decision, (byReason = new Map()));
  let pairs = byReason.get(route.reason);
  if (pairs === undefined) {
    pairs = [
      ["x-olla-routing-strategy", models.strategy],
      ["x-olla-routing-decision", route.decision],
      ["x-olla-routing-reason", route.reason],
    ];
    byReason.set(route.reason, pairs);
  }
  return pairs;
}

/** Synchronous unless a miss makes the endpoints be asked again (no promise per routed request). */
export function routeModel(
  models: ModelRouting,
  model: string,
  inScope: readonly Endpoint[],
  isRoutable: (endpoint: Endpoint) => boolean,
  pathname: string,
  speaks?: (endpoint: Endpoint) => boolean,
): ModelRoute | Promise<ModelRoute> {
  const input: ModelRoutingInput = {
    model,
    inScope,
    isRoutable,
    catalogue: models.catalogue,
    strategy: models.strategy,
    fallback: models.fallback,
    compatible: speaks ?? speaksPath(pathname),
    aliases: models.aliases,
    related: models.related,
  };
  const first = routeByModel(input);
  if (first.decision !== "rejected" || (models.strategy !== "discovery" && !models.refreshOnMiss))
    return first;
  return refreshThenRoute(models, input);
}

/** On a miss, ask the endpoints again (the model may just have been pulled), then decide. */
async function refreshThenRoute(models: ModelRouting, input: ModelRoutingInput): Promise<ModelRoute> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, models.discoveryTimeoutMs);
  });
  await Promise.race([models.refresh(input.inScope), deadline]);
  clearTimeout(timer);
  return routeByModel(input);
}

/** What is left of server.read_timeout for the body: the deadline runs from the request's arrival
 * (0: no deadline). */
export function bodyTimeoutMs(deps: ProxyDeps, record: RequestRecord): number {
  return deps.readTimeoutMs > 0 ? Math.max(1, deps.readTimeoutMs - (performance.now() - record.started)) : 0;
}

/** How long an endpoint's answer may take: proxy.response_timeout, or what is left of server.write_timeout
 * when that is sooner (it runs from the request's arrival, as Go's WriteTimeout does). 0: none. */
function answerDeadlineMs(deps: ProxyDeps, record: RequestRecord): number {
  const response = deps.responseTimeoutMs;
  if (deps.writeTimeoutMs <= 0) return response;
  const left = Math.max(1, deps.writeTimeoutMs - (performance.now() - record.started));
  return response > 0 && response <= left ? response : left;
}

/** The setting a deadline from answerDeadlineMs came from, named when it expires. */
function deadlineSetting(deps: ProxyDeps, deadlineMs: number): string {
  return deps.writeTimeoutMs > 0 && (deps.responseTimeoutMs === 0 || deadlineMs < deps.responseTimeoutMs)
    ? "server.write_timeout"
    : "proxy.response_timeout";
}

/** The answer to a request body that could not be read: too large, too slow, or cut short. */
export function bodyReadFailure(
  family: ApiFamily,
  error: unknown,
  maxBodySize: number,
  onSizeLimited?: () => void,
): Response {
  if (error instanceof BodyTooLargeError) {
    onSizeLimited?.();
    return errorResponse(family, 413, `request body exceeds the ${maxBodySize} byte limit`, {
      code: "request_too_large",
    });
  }
  if (error instanceof BodyTimeoutError) return slowBody(family, error.timeoutMs);
  return errorResponse(family, 400, "could not read the request body", { code: "bad_request" });
}

/** 408 and a closed connection: the rest of a trickling body must not be read as the next request. */
function slowBody(family: ApiFamily, timeoutMs: number): Response {
  return errorResponse(
    family,
    408,
    `the request body did not arrive within ${Math.round(timeoutMs)} ms (server.read_timeout)`,
    {
      code: "request_timeout",
      headers: { connection: "close" },
    },
  );
}

/** The failure cause stats and the access log report for an upstream error. */
function failureCause(error: unknown): string {
  if (!(error instanceof UpstreamError)) return "upstream_error";
  if (error.kind.endsWith("timeout")) return "timeout";
  return error.kind === "aborted" ? "client_gone" : "upstream_error";
}

function describe(error: unknown): string {
  if (error instanceof UpstreamError) return `${error.kind}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

const NO_HEADERS: HeaderPairs = [];

const NO_ENDPOINTS: Endpoint[] = [];

const NO_TIERS: Endpoint[][] = [];

/** An answer with the headers an Attempt made (responseHeaders), X-Olla-Request-ID among them: the
 * server need not add it (nor make a Headers object to do so). */
function withAttemptHeaders(record: RequestRecord, response: Response): Response {
  record.idHeaderSent = true;
  return response;
}

/** One try of one endpoint: the upstream request, and the hooks that watch its answer. The hooks are
 * methods (the upstream clients call them on the request), so a try allocates no closures. Once its
 * answer came it holds what the answer needs and nothing of the failover state (see ProxyCall), as it
 * lives as long as a streamed answer does. */
class Attempt implements UpstreamRequest, AnswerHooks {
  /** Made when the answer first needs it (see observer): a request still waiting for one does not. */
  private watcher: AnswerObserver | undefined = undefined;
  private released = false;
  /** From the response head, once it arrived (see responseHeaders). */
  responseTimeMs = 0;
  contentType: string | null = null;
  contentLength = Number.NaN;

  constructor(
    /** Told of the answer (or the failure before it), then let go. */
    private call: ProxyCall | null,
    readonly endpoint: Endpoint,
    readonly path: string,
    readonly method: string,
    // A whole body is released once sent (the client has encoded it), one still arriving once the
    // answer's head arrives (nothing replays the request after that): a long stream need not keep the
    // request's body, often a whole chat history.
    public body: Uint8Array | StreamingBody | null,
    /** Released once handed to the client (see ProxyCall.send). */
    public headers: HeaderPairs,
    readonly signal: AbortSignal,
    readonly deadlineMs: number,
    private readonly deps: ProxyDeps,
    private readonly context: RouteContext,
    private readonly model: string | undefined,
    /** X-Olla-Routing-* headers, when model routing ran. */
    private readonly routing: HeaderPairs | undefined,
    /** x-olla-mode for an adapted request (passthrough, translation). */
    readonly mode: string | undefined,
  ) {}

  get observer(): AnswerObserver {
    return (this.watcher ??= new AnswerObserver(this.context, this.endpoint.traffic));
  }

  onResponse(response: Response): void {
    const call = this.call!;
    this.call = null;
    call.answered(this, response);
  }

  onFailure(error: UpstreamError): void {
    const call = this.call!;
    this.call = null;
    call.failed(this.endpoint, error, this);
  }

  /** The endpoint's own URL: the path is asked for apart (no URL per try). */
  get url(): URL {
    return this.endpoint.url;
  }

  /** The client's headers: the endpoint's made safe, olla's added (X-Olla-Request-ID is the server's). */
  responseHeaders(upstream: HeaderPairs): Headers {
    this.responseTimeMs = performance.now() - this.context.record.started;
    this.body = null;
    const head = clientResponseHeaders(upstream, {
      endpoint: this.endpoint,
      model: this.model,
      responseTimeMs: this.responseTimeMs,
    });
    this.contentType = head.contentType;
    this.contentLength = head.contentLength;
    const headers = head.headers;
    const routing = this.routing;
    if (routing) for (const [name, value] of routing) headers.append(name, value);
    if (this.mode !== undefined) headers.set("x-olla-mode", this.mode);
    if (this.deps.sticky !== undefined) this.call?.stickyHeaders(headers, this.endpoint);
    headers.set("x-olla-request-id", this.context.record.requestId);
    return headers;
  }

  /** Why an answer read whole broke off (nothing of it reached the client yet), recorded on the request:
   * 504 when the deadline struck, as before the head, else 502; 499 when it was the client that left. */
  brokeOff(error: unknown): AnswerFailure {
    const record = this.context.record;
    if (this.signal.aborted) {
      record.failure = "client_gone";
      return { status: 499, message: "the client closed the request", code: "client_gone" };
    }
    record.failure = "mid_stream";
    const message = `endpoint ${this.endpoint.name} failed mid-answer: ${describe(error)}`;
    if (error instanceof UpstreamError && error.kind === "response_timeout") {
      const setting = deadlineSetting(this.deps, this.deadlineMs);
      return { status: 504, message: `${message} (${setting})`, code: "upstream_timeout" };
    }
    return { status: 502, message, code: "upstream_error" };
  }

  /** The endpoint's in-flight count drops once, whichever way the answer ends. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.endpoint.inFlight--;
  }

  onChunk(chunk: Uint8Array): void {
    this.observer.onChunk(chunk);
  }

  onBodyEnd(outcome: BodyOutcome, error?: UpstreamError): void {
    this.release();
    this.observer.onBodyEnd(outcome);
    if (outcome === "failed") {
      this.deps.logger.warn("stream cut by the endpoint", {
        request_id: this.context.record.requestId,
        endpoint: this.endpoint.name,
        error: describe(error),
      });
    }
  }

  failureTrailer(error: UpstreamError, contentType: string | null, lastByte: number | undefined) {
    return errorTrailer(
      streamFormat(contentType),
      error.kind === "response_timeout"
        ? `olla: ${error.message} (${deadlineSetting(this.deps, this.deadlineMs)})`
        : `olla: endpoint ${this.endpoint.name} failed mid-stream: ${describe(error)}`,
      lastByte,
      // A translated stream is OpenAI's until the translator turns its error event into Anthropic's.
      this.mode === "translation" ? "openai" : apiFamily(this.context.record.path),
    );
  }
}

/** The body with `model` set to an endpoint's own name for it (alias, different case). A streamed body
 * is awaited whole before it can be rewritten. */
async function renamedBody(
  body: Uint8Array | StreamingBody | null,
  modelAt: [number, number] | undefined,
  name: string,
): Promise<Uint8Array | StreamingBody | null> {
  if (body === null || modelAt === undefined) return body;
  const bytes = body instanceof Uint8Array ? body : await wholeBody(body);
  return rewriteModel(bytes, modelAt, name);
}

/** A request's sticky-session state (sticky sessions on). */
interface StickyRequest {
  key: string | undefined;
  /** The pin found when the request began: served by it is a hit. */
  pinnedAtStart: Endpoint | undefined;
  /** Where this request last pinned the key (each endpoint it is sent to is pinned). */
  pinnedNow: Endpoint | undefined;
  /** X-Olla-Session-ID, echoed when it made the key. */
  session: string | null;
}

/** Sticky sessions on, but no source gave the request a key: nothing to pin (never written to). */
const NO_STICKY_KEY: StickyRequest = {
  key: undefined,
  pinnedAtStart: undefined,
  pinnedNow: undefined,
  session: null,
};

/**
 * One request on its way to an endpoint, after its body was read and its candidates chosen: what every
 * try shares and what failover needs to make the next one. Until an endpoint answers, this is all the
 * request keeps (not the Request, nor an async frame full of locals): requests can wait minutes on a
 * cold model load, thousands at once, and each waiting request's memory is held that long.
 */
class ProxyCall {
  /** The tier being tried: candidates not yet failed. */
  private candidates: Endpoint[] = NO_ENDPOINTS;
  private tried: { endpoint: string; error: string }[] | undefined = undefined;

  constructor(
    readonly deps: ProxyDeps,
    private readonly context: RouteContext,
    private readonly method: string,
    private readonly signal: AbortSignal,
    /** The client's headers as pairs, made once for every try; let go before the last one waits. */
    private clientHeaders: HeaderPairs,
    /** Let go (when whole) before the last try waits, as the headers are. */
    private body: Uint8Array | StreamingBody | null,
    /** The path on the endpoint, for a route that is not adapted. */
    private readonly path: string,
    private readonly model: string | undefined,
    private readonly modelAt: [number, number] | undefined,
    private readonly routing: HeaderPairs | undefined,
    /** Candidates in preference order (loaded model first); each tier is tried before the next. */
    private tiers: Endpoint[][],
    /** An endpoint's own name for the model, where it differs from the client's. */
    private readonly nameOn: ReadonlyMap<Endpoint, string> | undefined,
    private readonly prepared: PreparedRequest | undefined,
    /** Sticky sessions' state for this request; undefined while they are off. */
    private readonly sticky: StickyRequest | undefined,
  ) {}

  /** The client's API family, for error answers (those are rare: not kept per waiting request). */
  private get family(): ApiFamily {
    return apiFamily(this.context.record.path);
  }

  /** Sends the request to its first candidate, then (through its tries' hooks) to the next ones until
   * one answers: no frame or promise of its own waits for the head. The answer goes to the context
   * (RouteContext.answer, or .fail for a failure of olla's own: the server answers 500). */
  start(): void {
    this.next();
  }

  /** Tries the next candidate, or answers that none is left. */
  private next(): void {
    let endpoint: Endpoint | undefined;
    try {
      endpoint = this.pick();
      if (endpoint === undefined) {
        this.context.answer(this.allFailed());
        return;
      }
    } catch (error) {
      this.context.fail(error);
      return;
    }
    let made: Attempt | Promise<Attempt>;
    try {
      made = this.attempt(endpoint);
    } catch (error) {
      this.failed(endpoint, error, undefined);
      return;
    }
    if (made instanceof Promise) this.sendLater(made, endpoint);
    else this.send(made);
  }

  /** A try whose body had to be renamed first (in a method of its own: see answerLater). */
  private sendLater(made: Promise<Attempt>, endpoint: Endpoint): void {
    made.then(
      (attempt) => this.send(attempt),
      (error: unknown) => this.failed(endpoint, error, undefined),
    );
  }

  private send(attempt: Attempt): void {
    try {
      this.deps.client.send(attempt);
    } catch (error) {
      this.failed(attempt.endpoint, error, attempt);
      return;
    }
    // The client has encoded (or copied) the headers and a whole body by now: a waiting request need
    // not keep them.
    attempt.headers = NO_HEADERS;
    if (attempt.body instanceof Uint8Array) attempt.body = null;
    // No candidate is left to replay the request on: what a replay needs need not wait with it (a
    // body still arriving stays: its upload's failure is read in failure()).
    if (this.isLastTry()) {
      this.clientHeaders = NO_HEADERS;
      if (this.body instanceof Uint8Array) this.body = null;
      this.candidates = NO_ENDPOINTS;
      this.tiers = NO_TIERS;
    }
  }

  /** The endpoint being tried is the only candidate left. */
  private isLastTry(): boolean {
    if (this.candidates.length > 1) return false;
    for (const tier of this.tiers) if (tier.length > 0) return false;
    return true;
  }

  /** The next endpoint to try (its circuit lets the request through), or undefined when none is left. */
  private pick(): Endpoint | undefined {
    for (;;) {
      if (this.candidates.length === 0) {
        const tier = this.tiers.shift();
        if (tier === undefined) return undefined;
        this.candidates = tier;
        continue;
      }
      const endpoint = this.choose();
      if (endpoint.breaker.begin()) {
        const sticky = this.sticky;
        if (sticky !== undefined && sticky.key !== undefined && endpoint !== sticky.pinnedNow) {
          // Pinned as it is sent, so the session's next requests (even concurrent ones) follow; a
          // failover pins again the next endpoint, so the pin ends where the answer came from.
          this.deps.sticky!.pin(sticky.key, endpoint);
          sticky.pinnedNow = endpoint;
        }
        return endpoint;
      }
      // Half-open and its one trial is already running: not this one.
      this.candidates = this.candidates.filter((candidate) => candidate !== endpoint);
    }
  }

  /** The request's pinned endpoint when it is among the tier's candidates and routable, else the
   * balancer's pick: the pin chooses only among what the scope and model routing allow. */
  private choose(): Endpoint {
    const pinned = this.sticky?.pinnedAtStart;
    if (pinned !== undefined && this.candidates.includes(pinned) && this.deps.isRoutable(pinned))
      return pinned;
    return this.deps.balancer.pick(this.candidates) as Endpoint;
  }

  /** The sticky-session headers of the answer `endpoint` gave (sticky sessions on), its outcome counted
   * and recorded for the access log. */
  stickyHeaders(headers: Headers, endpoint: Endpoint): void {
    const sticky = this.sticky!;
    const outcome = this.deps.sticky!.outcome(sticky.key, sticky.pinnedAtStart, endpoint);
    this.context.record.stickyOutcome = outcome;
    headers.set("x-olla-sticky-session", outcome);
    if (sticky.key === undefined) return;
    headers.set("x-olla-sticky-key-source", keySourceOf(sticky.key));
    if (sticky.session !== null) headers.set("x-olla-session-id", sticky.session);
  }

  /** The try of `endpoint` (counted in flight; `failed` uncounts it). A body renamed for the endpoint's
   * own model name may have to be read whole first. */
  private attempt(endpoint: Endpoint): Attempt | Promise<Attempt> {
    const { deps, context } = this;
    const record = context.record;
    endpoint.inFlight++;
    record.endpoint = endpoint.name;
    context.dispatched();
    const deadlineMs = answerDeadlineMs(deps, record);
    const name = this.nameOn?.get(endpoint);
    const adapted = this.prepared?.forEndpoint(endpoint, name);
    const path = upstreamPath(endpoint, adapted?.path ?? this.path, adapted ? "" : record.search);
    const headers = upstreamRequestHeaders(this.clientHeaders, {
      endpoint,
      requestId: record.requestId,
      peer: record.peer,
      client: context,
      clientKeysAreOurs: deps.clientKeysAreOurs,
    });
    if (adapted) return this.newAttempt(endpoint, path, adapted.body, headers, deadlineMs, adapted.mode);
    if (name === undefined) return this.newAttempt(endpoint, path, this.body, headers, deadlineMs, undefined);
    return this.renamedAttempt(endpoint, path, name, headers, deadlineMs);
  }

  private newAttempt(
    endpoint: Endpoint,
    path: string,
    body: Uint8Array | StreamingBody | null,
    headers: HeaderPairs,
    deadlineMs: number,
    mode: string | undefined,
  ): Attempt {
    return new Attempt(
      this,
      endpoint,
      path,
      this.method,
      body,
      headers,
      this.signal,
      deadlineMs,
      this.deps,
      this.context,
      this.model,
      this.routing,
      mode,
    );
  }

  private async renamedAttempt(
    endpoint: Endpoint,
    path: string,
    name: string,
    headers: HeaderPairs,
    deadlineMs: number,
  ): Promise<Attempt> {
    const body = await renamedBody(this.body, this.modelAt, name);
    return this.newAttempt(endpoint, path, body, headers, deadlineMs, undefined);
  }

  /** A try that failed before anything reached the client: the next candidate, or the answer. */
  failed(endpoint: Endpoint, error: unknown, attempt: Attempt | undefined): void {
    try {
      const answer = this.failure(endpoint, error, attempt);
      if (answer === undefined) this.next();
      else this.context.answer(answer);
    } catch (failure) {
      this.context.fail(failure);
    }
  }

  /** The answer to a try that failed, or undefined to try the next candidate (a connection failure; the
   * endpoint leaves rotation). */
  private failure(endpoint: Endpoint, error: unknown, attempt: Attempt | undefined): Response | undefined {
    const { deps, context } = this;
    const record = context.record;
    endpoint.inFlight--;
    if (this.signal.aborted) {
      endpoint.breaker.abandon();
      record.failure = "client_gone";
      return new Response(null, { status: 499 });
    }
    // The client's own upload failed (too slow, cut short): not the endpoint's fault.
    const body = this.body;
    const upload = body !== null && !(body instanceof Uint8Array) ? body.error : undefined;
    if (upload !== undefined) {
      endpoint.breaker.abandon();
      if (upload instanceof BodyTimeoutError) return slowBody(this.family, upload.timeoutMs);
      return errorResponse(this.family, 400, `the request body was cut short: ${upload.message}`, {
        code: "bad_request",
        headers: { connection: "close" },
      });
    }
    // Nothing has reached the client yet, so the request can be replayed elsewhere.
    endpoint.traffic.requests++;
    endpoint.traffic.failures++;
    const tried = (this.tried ??= []);
    const timedOut = error instanceof UpstreamError && error.kind === "response_timeout";
    if (error instanceof UpstreamError && error.kind !== "aborted" && !timedOut) {
      endpoint.breaker.failure();
      deps.reportFailure(endpoint, describe(error));
      tried.push({ endpoint: endpoint.name, error: describe(error) });
      (record.attempts ??= []).push({ endpoint: endpoint.name, failure: failureCause(error) });
      record.endpoint = undefined;
      // (On the last try the candidates were let go already: none remain.)
      this.candidates = this.candidates.filter((candidate) => candidate !== endpoint);
      this.tiers = this.tiers.map((tier) => tier.filter((candidate) => candidate !== endpoint));
      deps.logger.warn("endpoint failed, trying the next", {
        request_id: record.requestId,
        endpoint: endpoint.name,
        error: describe(error),
        remaining: this.candidates.length,
      });
      return undefined;
    }
    endpoint.breaker.failure();
    const why =
      timedOut && attempt
        ? `${describe(error)} (${deadlineSetting(deps, attempt.deadlineMs)})`
        : describe(error);
    tried.push({ endpoint: endpoint.name, error: why });
    record.failure = failureCause(error);
    const status = timedOut ? 504 : 502;
    return errorResponse(this.family, status, `endpoint ${endpoint.name} failed: ${why}`, {
      code: status === 504 ? "upstream_timeout" : "upstream_error",
      details: { tried },
    });
  }

  /** Every candidate failed to connect. */
  private allFailed(): Response {
    const tried = this.tried ?? [];
    this.context.record.failure = "all_failed";
    return errorResponse(this.family, 502, `every candidate endpoint failed (${tried.length} tried)`, {
      code: "all_endpoints_failed",
      details: { tried },
    });
  }

  /** The endpoint answered: its Response goes to the client. */
  answered(attempt: Attempt, response: Response): void {
    try {
      const answer = this.answer(attempt, response);
      if (answer instanceof Promise) beginLater(answer, this.context);
      else this.context.answer(answer);
    } catch (error) {
      this.context.fail(error);
    }
  }

  /** The client's answer from the endpoint's: translated, read whole, or streamed on. */
  private answer(attempt: Attempt, response: Response): Response | Promise<Response> {
    const endpoint = attempt.endpoint;
    const record = this.context.record;
    endpoint.breaker.success();
    const traffic = endpoint.traffic;
    const responseTimeMs = attempt.responseTimeMs;
    traffic.requests++;
    traffic.responseTimeTotalMs += responseTimeMs;
    if (responseTimeMs < traffic.responseTimeMinMs) traffic.responseTimeMinMs = responseTimeMs;
    if (responseTimeMs > traffic.responseTimeMaxMs) traffic.responseTimeMaxMs = responseTimeMs;
    if (response.status >= 500) traffic.failures++;
    // The client's headers already, X-Olla-Request-ID included: the attempt made them from the
    // endpoint's (responseHeaders).
    const prepared = this.prepared;
    if (prepared && attempt.mode === "translation") {
      return prepared.respond(response, {
        headers: response.headers,
        release: () => attempt.release(),
        observer: attempt.observer,
        requestId: record.requestId,
        brokeOff: (error) => attempt.brokeOff(error),
      });
    }
    if (!response.body) {
      attempt.release();
      attempt.observer.whole(null);
      return withAttemptHeaders(record, response);
    }
    if (streamFormat(attempt.contentType) === "opaque" && attempt.contentLength <= BUFFER_LIMIT) {
      if (attempt.observer.complete) {
        // The whole body came with the head: it is in memory already.
        attempt.observer.whole(null);
        return withAttemptHeaders(record, response);
      }
      return this.readWhole(attempt, response);
    }
    attempt.observer.streaming();
    return withAttemptHeaders(record, response);
  }

  /** A small opaque answer, read whole and answered from memory. */
  private async readWhole(attempt: Attempt, response: Response): Promise<Response> {
    const record = this.context.record;
    try {
      const bytes = await response.bytes();
      attempt.release();
      attempt.observer.whole(bytes);
      return withAttemptHeaders(
        record,
        new Response(bytes, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        }),
      );
    } catch (error) {
      attempt.release();
      const failure = attempt.brokeOff(error);
      if (failure.status === 499) return new Response(null, { status: 499 });
      return errorResponse(this.family, failure.status, failure.message, { code: failure.code });
    }
  }
}

export function proxyRoutes(deps: ProxyDeps): Route[] {
  const handler = (request: Request, context: RouteContext) => proxyRequest(deps, request, context);
  return [{ methods: METHODS, path: "/olla/", prefix: true, handler }];
}

/** A route whose clients speak another API than the endpoints (e.g. Anthropic Messages). */
export function adaptedHandler(deps: ProxyDeps, adapter: ApiAdapter): Handler {
  return (request, context) => proxyRequest(deps, request, context, adapter);
}

/** The answer to a proxied request. A body read whole with a Content-Length (nearly every request) is
 * read by a BodyIntake: no async function, promise or timer of its own; a large body streamed on, a
 * chunked one or one over the limit go through prepareCall. Either way the one promise that waits for
 * the endpoint's head is the answer's own (see ProxyCall.start). */
function proxyRequest(
  deps: ProxyDeps,
  request: Request,
  context: RouteContext,
  adapter?: ApiAdapter,
): Response | Promise<Response> {
  // Quiet streams and slow model loads must not hit Bun's 10 s idle cut; olla's own timers rule.
  context.server.timeout(request, 0);
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  // No length and no body (a GET): as good as a length of 0. NaN is left for a chunked body.
  const length = Number.isNaN(declared) && request.body === null ? 0 : declared;
  if (length === 0) {
    const made = callFor(deps, request, context, adapter, null, {});
    // An answer at once (an error) needs no promise.
    if (made instanceof Response) return made;
    return answerLater(made, context);
  }
  const limit = adapter ? adapter.maxBodySize : deps.maxBodySize;
  // Read whole: a known length within the limit, short of what is streamed on (adapters read every body
  // whole). NaN fails every comparison.
  const whole =
    length <= (limit > 0 ? limit : Number.POSITIVE_INFINITY) &&
    (adapter !== undefined || length < STREAM_BODY_MIN);
  if (whole) return new BodyIntake(deps, request, context, adapter, limit).read();
  return answerLater(prepareCall(deps, request, context, adapter), context);
}

// The closures that wait for a promise live in functions of their own: a function that makes a closure
// anywhere in its body gets a scope object on every call, the calls that make none included.

/** The client's answer, once the call (or a promise of it, or of an answer) has one. */
function answerLater(
  made: ProxyCall | Promise<Response | ProxyCall>,
  context: RouteContext,
): Promise<Response> {
  const answer = context.later();
  if (made instanceof ProxyCall) made.start();
  else beginLater(made, context);
  return answer;
}

function beginLater(made: Promise<Response | ProxyCall>, context: RouteContext): void {
  made.then(
    (call) => begin(call, context),
    (error: unknown) => context.fail(error),
  );
}

/** Hands the client's answer on: at once, or once a call's endpoint answered. */
function begin(made: Response | ProxyCall, context: RouteContext): void {
  if (made instanceof Response) context.answer(made);
  else made.start();
}

/** Reads a request's body of known length whole, within what is left of server.read_timeout (its
 * deadline kept on the shared list: see body-deadlines.ts), then makes and starts its call. */
class BodyIntake implements BodyWaiter {
  endsAt = 0;
  prevWaiter: BodyWaiter | null = null;
  nextWaiter: BodyWaiter | null = null;
  private timeoutMs = 0;
  private settled = false;

  constructor(
    private readonly deps: ProxyDeps,
    private readonly request: Request,
    private readonly context: RouteContext,
    private readonly adapter: ApiAdapter | undefined,
    private readonly limit: number,
  ) {}

  read(): Promise<Response> {
    const answer = this.context.later();
    const timeoutMs = bodyTimeoutMs(this.deps, this.context.record);
    if (timeoutMs > 0) {
      this.timeoutMs = timeoutMs;
      this.endsAt = performance.now() + timeoutMs;
      watchBody(this);
    }
    this.request.bytes().then(
      (bytes) => this.arrived(bytes),
      (error: unknown) => this.failed(error),
    );
    return answer;
  }

  /** server.read_timeout passed with the body still arriving: 408 (what arrives later is dropped). */
  expire(): void {
    if (this.settle())
      this.context.answer(bodyReadFailure(this.family, new BodyTimeoutError(this.timeoutMs), this.limit));
  }

  private get family(): ApiFamily {
    return apiFamily(this.context.record.path);
  }

  /** True the first time only: the body's outcome (in, failed, too late) is decided once. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    // Off the deadline list (already off when it expired).
    unwatchBody(this);
    return true;
  }

  private arrived(bytes: Uint8Array): void {
    if (!this.settle()) return;
    try {
      const facts = inspectBody(
        bytes,
        this.request.headers.get("content-type"),
        this.deps.sticky?.findsConversation,
      );
      const made = callFor(this.deps, this.request, this.context, this.adapter, bytes, facts);
      if (made instanceof Promise) beginLater(made, this.context);
      else begin(made, this.context);
    } catch (error) {
      this.context.fail(error);
    }
  }

  private failed(error: unknown): void {
    if (this.settle())
      this.context.answer(bodyReadFailure(this.family, error, this.limit, this.deps.onSizeLimited));
  }
}

/** Reads the body that BodyIntake does not (streamed on, chunked, over the limit), then the call. */
async function prepareCall(
  deps: ProxyDeps,
  request: Request,
  context: RouteContext,
  adapter?: ApiAdapter,
): Promise<Response | ProxyCall> {
  const family: ApiFamily = apiFamily(context.record.path);
  const maxBodySize = adapter ? adapter.maxBodySize : deps.maxBodySize;
  let body: Uint8Array | StreamingBody | null;
  let facts: BodyFacts;
  const contentType = request.headers.get("content-type");
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  const deadlineMs = bodyTimeoutMs(deps, context.record);
  try {
    if (
      !adapter &&
      declared >= STREAM_BODY_MIN &&
      (maxBodySize === 0 || declared <= maxBodySize) &&
      request.body
    ) {
      // Large: the endpoint gets it while it arrives; `model` is read from the first bytes.
      const streaming = streamRequestBody(request, declared, deadlineMs);
      facts = inspectBody(
        await bodyPrefix(streaming, INSPECT_PREFIX),
        contentType,
        deps.sticky?.findsConversation,
      );
      body = streaming;
    } else {
      body = await readBody(request, maxBodySize, deadlineMs);
      facts = inspectBody(body, contentType, deps.sticky?.findsConversation);
    }
  } catch (error) {
    return bodyReadFailure(family, error, maxBodySize, deps.onSizeLimited);
  }
  return callFor(deps, request, context, adapter, body, facts);
}

/** With the body read: the call to make, or the answer at once. A promise only when a model miss has
 * the endpoints asked again (routeModel). */
function callFor(
  deps: ProxyDeps,
  request: Request,
  context: RouteContext,
  adapter: ApiAdapter | undefined,
  body: Uint8Array | StreamingBody | null,
  facts: BodyFacts,
): Response | ProxyCall | Promise<Response | ProxyCall> {
  const record = context.record;
  const family: ApiFamily = apiFamily(record.path);
  record.model = facts.model;
  if (body !== null) record.bytesIn = body instanceof Uint8Array ? body.byteLength : body.length;
  if (facts.modelNotString) {
    return errorResponse(family, 400, '"model" must be a string', { code: "invalid_model" });
  }
  if (facts.model === "") {
    return errorResponse(family, 400, '"model" must not be empty', { code: "invalid_model" });
  }
  // Only a whole body can be judged: a streamed body's prefix may end mid-structure.
  if (facts.malformed && (body === null || body instanceof Uint8Array)) {
    return errorResponse(family, 400, "the request body is not valid JSON, or not a JSON object", {
      code: "invalid_json",
    });
  }
  let prepared: PreparedRequest | undefined;
  if (adapter) {
    const result = adapter.prepare(body instanceof Uint8Array ? body : new Uint8Array(0), {
      requestId: record.requestId,
      headers: request.headers,
      modelAt: facts.modelAt,
      record,
    });
    if (result instanceof Response) return result;
    prepared = result;
    record.model = facts.model = prepared.model;
  }

  const resolved = resolveRoute(record.path, deps.profiles);
  const scope: Scope = adapter ? adapterScope(adapter) : resolved.scope;
  const inScope = endpointsIn(scope, deps.endpoints);
  const candidates = inScope.filter(deps.isRoutable);
  if (candidates.length === 0) {
    const what = scope.label === undefined ? "endpoints" : `${scope.label} endpoints`;
    if (inScope.length === 0)
      return errorResponse(family, 404, `no ${what} are configured`, { code: "no_endpoints" });
    return errorResponse(family, 503, `no healthy ${what} available`, {
      code: "no_healthy_endpoints",
      headers: { "retry-after": "5" },
    });
  }
  const plan: CallPlan = {
    deps,
    request,
    context,
    family,
    scope,
    inScope,
    body,
    path: resolved.path,
    facts,
    prepared,
  };
  // With a model named and catalogues known, only endpoints that have it (loaded ones first).
  if (facts.model === undefined || !deps.models) return newCall(plan, [candidates], undefined, undefined);
  const route = routeModel(deps.models, facts.model, inScope, deps.isRoutable, record.path, adapter?.accepts);
  if (route instanceof Promise) return routedLater(plan, route);
  return routedCall(plan, route);
}

function routedLater(plan: CallPlan, route: Promise<ModelRoute>): Promise<Response | ProxyCall> {
  return route.then((decided) => routedCall(plan, decided));
}

/** What callFor found out, for the call it makes once the model is routed. */
interface CallPlan {
  deps: ProxyDeps;
  request: Request;
  context: RouteContext;
  family: ApiFamily;
  scope: Scope;
  inScope: readonly Endpoint[];
  body: Uint8Array | StreamingBody | null;
  /** The path on the endpoint (for a route that is not adapted). */
  path: string;
  facts: BodyFacts;
  prepared: PreparedRequest | undefined;
}

/** The call to the endpoints that have the model, or why there is none (404/503). */
function routedCall(plan: CallPlan, route: ModelRoute): Response | ProxyCall {
  const { deps, facts, scope } = plan;
  const models = deps.models!;
  const routing = routingHeaders(models, route);
  if (route.decision === "rejected") {
    const available = availableModels(plan.inScope, deps.isRoutable, models.catalogue);
    const message =
      route.status === 503
        ? `model ${facts.model} is only on endpoints that are down right now`
        : `model ${facts.model} is not served by any ${scope.label === undefined ? "" : `${scope.label} `}endpoint` +
          (available.length ? `; available: ${available.slice(0, 20).join(", ")}` : "");
    const headers: Record<string, string> = Object.fromEntries(routing);
    if (route.status === 503) headers["retry-after"] = "5";
    return errorResponse(plan.family, route.status ?? 404, message, {
      code: route.status === 503 ? "model_unavailable" : "model_not_found",
      headers,
    });
  }
  return newCall(plan, route.tiers, routing, route.nameOn);
}

function newCall(
  plan: CallPlan,
  tiers: Endpoint[][],
  routing: HeaderPairs | undefined,
  nameOn: ReadonlyMap<Endpoint, string> | undefined,
): ProxyCall {
  const { request } = plan;
  // The client's headers as pairs, once for every try; from here on the Request itself is let go.
  const clientHeaders: HeaderPairs = [];
  for (const pair of request.headers) clientHeaders.push(pair);
  const sticky = plan.deps.sticky === undefined ? undefined : stickyRequest(plan.deps.sticky, plan);
  return new ProxyCall(
    plan.deps,
    plan.context,
    request.method,
    request.signal,
    clientHeaders,
    plan.body,
    plan.path,
    plan.facts.model,
    plan.facts.modelAt,
    routing,
    tiers,
    nameOn,
    plan.prepared,
    sticky,
  );
}

/** The request's sticky-session key and the endpoint it is pinned to now (made only with sticky
 * sessions on). */
function stickyRequest(sticky: StickySessions, plan: CallPlan): StickyRequest {
  const { body, facts, request } = plan;
  const key = sticky.keyOf({
    model: facts.model ?? "",
    headers: request.headers,
    clientIp: plan.context.record.clientIp,
    body: body === null || body instanceof Uint8Array ? body : body.chunks,
    conversationStart: facts.conversationStart,
    conversationEnd: facts.conversationEnd,
  });
  if (key === undefined) return NO_STICKY_KEY;
  const pinned = sticky.pinnedTo(key);
  const session = keySourceOf(key) === "session_header" ? request.headers.get(SESSION_HEADER) : null;
  return { key, pinnedAtStart: pinned, pinnedNow: pinned, session };
}
