// A fake inference server on 127.0.0.1 that speaks one real server's wire format and obeys the test's
// behaviour knobs (delays, hangs, forced errors, cut connections), logging every request it receives.
import type { RouteContext } from "./fake-context.ts";
import { errorResponse, routeNotFound } from "./fake-errors.ts";
import { defaultModels, findModel, modelInfo, toFakeModel } from "./fake-models.ts";
import { routesFor } from "./fake-routes.ts";
import { frameStream, type StreamOutcome, sleep } from "./fake-stream.ts";
import type {
  FakeBehaviour,
  FakeBehaviourPatch,
  FakeKind,
  FakeRequest,
  FakeUpstream,
  FakeUpstreamOptions,
} from "./fake-types.ts";

export function defaultBehaviour(kind: FakeKind): FakeBehaviour {
  return {
    models: defaultModels(kind),
    chunks: 3,
    chunkDelayMs: 2,
    headerDelayMs: 0,
    healthDelayMs: 0,
    loadDelayMs: 0,
    quietGap: null,
    dieMidStream: null,
    hang: false,
    fail: null,
    embeddingDims: 8,
    toolCalls: true,
    logRequests: true,
  };
}

function applyPatch(behaviour: FakeBehaviour, patch: FakeBehaviourPatch): void {
  const { models, ...rest } = patch;
  Object.assign(behaviour, rest);
  if (models) behaviour.models = models.map(toFakeModel);
}

/** Exact paths, or prefixes when ending in `*`; `true` matches every path. */
function matchesPath(spec: boolean | string[] | undefined, path: string): boolean {
  if (spec === undefined || typeof spec === "boolean") return spec !== false;
  return spec.some((p) => (p.endsWith("*") ? path.startsWith(p.slice(0, -1)) : path === p));
}

const OUTCOME_COUNTERS: Record<StreamOutcome, "streamsCompleted" | "streamsCancelled" | "streamsDied"> = {
  complete: "streamsCompleted",
  cancelled: "streamsCancelled",
  died: "streamsDied",
};

/** The answer to a request whose client already left: never sent, it only ends the handler. */
const gone = () => new Response(null, { status: 499 });

/** Per request: is it still open, and did the server (not the client) cut it? */
interface Exchange {
  entry: FakeRequest;
  serverCut: boolean;
  /** The response body is a paced stream, which finishes the exchange itself when it ends. */
  streaming: boolean;
  finished: boolean;
}

export async function startFakeUpstream(options: FakeUpstreamOptions): Promise<FakeUpstream> {
  const { kind, port: wantedPort = 0, ...patch } = options;
  const behaviour = defaultBehaviour(kind);
  applyPatch(behaviour, patch);
  const routes = routesFor(kind);
  const requests: FakeRequest[] = [];
  const counts = {
    inFlight: 0,
    activeStreams: 0,
    peakActiveStreams: 0,
    streamsCompleted: 0,
    streamsCancelled: 0,
    streamsDied: 0,
  };
  const open = new Set<Exchange>();
  const hanging = new Set<() => void>();
  let server: ReturnType<typeof Bun.serve> | null = null;
  let port = wantedPort;

  const finish = (x: Exchange) => {
    if (x.finished) return;
    x.finished = true;
    open.delete(x);
    counts.inFlight--;
  };

  /** Never answers; resolves only so the handler can return once the client left or the server stops. */
  const hangUntilGone = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      hanging.add(resolve);
      signal.addEventListener("abort", () => resolve(), { once: true });
    });

  function streamResponse(
    x: Exchange,
    signal: AbortSignal,
    frames: string[],
    contentType: string,
    dieAfter: number | null,
  ): Response {
    x.streaming = true;
    counts.activeStreams++;
    counts.peakActiveStreams = Math.max(counts.peakActiveStreams, counts.activeStreams);
    const body = frameStream({
      frames,
      delayMs: behaviour.chunkDelayMs,
      quietGap: behaviour.quietGap,
      dieAfter,
      signal,
      onEnd(outcome) {
        if (outcome === "died") x.serverCut = true;
        if (outcome === "cancelled" && !x.serverCut) x.entry.aborted = true;
        counts.activeStreams--;
        counts[OUTCOME_COUNTERS[outcome]]++;
        finish(x);
      },
    });
    // Bun sends the headers with the first frame; a stream cut before it never had a status.
    if (dieAfter !== 0) x.entry.status = 200;
    return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-cache" } });
  }

  async function respond(req: Request, path: string, x: Exchange, text: string): Promise<Response> {
    const b = behaviour;
    const route = routes[`${req.method === "HEAD" ? "GET" : req.method} ${path}`];
    if (matchesPath(b.hang, path)) {
      await hangUntilGone(req.signal);
      return gone();
    }
    await sleep(route && !route.probe ? b.headerDelayMs : b.healthDelayMs, req.signal);
    if (req.signal.aborted) return gone();
    const fail = b.fail;
    if (fail && matchesPath(fail.paths, path) && (fail.times === undefined || fail.times > 0)) {
      if (fail.times !== undefined && --fail.times <= 0 && b.fail === fail) b.fail = null;
      const retryAfter = fail.retryAfter ?? (fail.status === 429 ? "1" : undefined);
      const headers: Record<string, string> =
        retryAfter === undefined ? {} : { "retry-after": String(retryAfter) };
      return errorResponse(
        kind,
        path,
        fail.status,
        fail.message ?? `fake ${kind}: forced ${fail.status}`,
        headers,
      );
    }
    if (!route) return routeNotFound(kind, req.method, path);
    let body: Record<string, unknown> = {};
    if (text !== "") {
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
          body = parsed as Record<string, unknown>;
      } catch {
        return errorResponse(kind, path, 400, `fake ${kind}: request body is not valid JSON`);
      }
    }
    const stream = (frames: string[], contentType: string, dieAfter = b.dieMidStream) =>
      streamResponse(x, req.signal, frames, contentType, dieAfter);
    const ctx: RouteContext = {
      kind,
      behaviour: b,
      path,
      body,
      signal: req.signal,
      models: () => b.models.map(modelInfo),
      async useModel(name) {
        const found = findModel(kind, b.models, name);
        if (found && !found.loaded) {
          await sleep(b.loadDelayMs, req.signal);
          found.source.loaded = true;
          found.loaded = true;
        }
        return found;
      },
      stream: (frames, contentType) => stream(frames, contentType),
      answer(value) {
        if (b.dieMidStream === null) return Response.json(value);
        // A non-streamed body cut in the middle: send the first half, then drop the socket.
        const json = JSON.stringify(value);
        const half = Math.ceil(json.length / 2);
        return stream(
          [json.slice(0, half), json.slice(half)],
          "application/json",
          Math.min(b.dieMidStream, 1),
        );
      },
    };
    return route.handle(ctx);
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const text = req.body ? await req.text().catch(() => "") : "";
    const entry: FakeRequest = {
      method: req.method,
      path: url.pathname,
      query: url.search.slice(1),
      headers: Object.fromEntries(req.headers),
      body: text,
      at: performance.now(),
      status: null,
      aborted: false,
    };
    if (behaviour.logRequests) requests.push(entry);
    const x: Exchange = { entry, serverCut: false, streaming: false, finished: false };
    open.add(x);
    counts.inFlight++;
    req.signal.addEventListener(
      "abort",
      () => {
        if (!x.serverCut && !x.finished) entry.aborted = true;
      },
      { once: true },
    );
    try {
      const res = await respond(req, url.pathname, x, text);
      if (!x.streaming) {
        entry.status = req.signal.aborted || x.serverCut ? null : res.status;
        finish(x);
      }
      return res;
    } catch (error) {
      finish(x);
      entry.status = 500;
      return Response.json({ error: `fake ${kind}: ${String(error)}` }, { status: 500 });
    }
  }

  function listen(): void {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      idleTimeout: 0,
      development: false,
      fetch: handle,
    });
    port = server.port ?? port;
  }

  async function stop(): Promise<void> {
    const s = server;
    if (!s) return;
    server = null;
    for (const x of open) x.serverCut = true;
    for (const release of hanging) release();
    hanging.clear();
    await s.stop(true);
  }

  listen();
  return {
    kind,
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get running() {
      return server !== null;
    },
    behaviour,
    set: (p) => applyPatch(behaviour, p),
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    counters: counts,
    stop,
    async restart() {
      await stop();
      listen();
    },
    [Symbol.asyncDispose]: stop,
  };
}
