// Shapes shared by the fake inference servers: server kinds, models, the mutable behaviour knobs,
// the request log entry and the handle a test holds.

export type FakeKind = "ollama" | "openai" | "vllm" | "llamacpp" | "lmstudio" | "sglang";

/** A model the fake serves. Only `id` is required; the rest fills the kind's model-list fields. */
export interface FakeModel {
  id: string;
  /** Loaded in memory (Ollama `/api/ps`, LM Studio `state`). Default true. A request for a model that
   * is not loaded waits `loadDelayMs` first, then the model counts as loaded. */
  loaded?: boolean;
  /** Embedding-only model (LM Studio `type: "embeddings"`, Ollama capabilities). Default: id contains "embed". */
  embedding?: boolean;
  family?: string;
  parameterSize?: string;
  quantization?: string;
  contextLength?: number;
  sizeBytes?: number;
  digest?: string;
  publisher?: string;
}

/** Answer with an error status instead of the real route. */
export interface FakeFailure {
  status: number;
  /** Only these paths (exact, or a prefix when ending in `*`). Default: every path. */
  paths?: string[];
  /** Sent as `Retry-After` (seconds). Default "1" when status is 429, else absent. */
  retryAfter?: string | number;
  /** Fail only this many more matching requests, then behave normally again. Default: forever. */
  times?: number;
  /** Error message inside the API family's envelope. */
  message?: string;
}

/** A pause in a stream after `afterFrames` frames were written (headers already sent). */
export interface QuietGap {
  afterFrames: number;
  ms: number;
}

/** Everything a test may change, before start or at any time through `handle.behaviour` / `handle.set`. */
export interface FakeBehaviour {
  models: FakeModel[];
  /** Content pieces (tokens) in every answer, streamed or not. */
  chunks: number;
  /** Pause between two frames of a stream. */
  chunkDelayMs: number;
  /** Pause before the response headers of inference routes (cold load, slow prompt processing). */
  headerDelayMs: number;
  /** Pause before answering health, version and model-list routes. */
  healthDelayMs: number;
  /** Extra pause (before headers) the first time a model with `loaded: false` is used. */
  loadDelayMs: number;
  quietGap: QuietGap | null;
  /** On inference routes, cut the connection after this many frames (SSE events / NDJSON lines) were
   * written; 0 resets before any header. Non-streamed JSON is sent in two halves and cut after the first. */
  dieMidStream: number | null;
  /** Accept and never answer: every path (true) or only these (exact, or prefix ending in `*`). */
  hang: boolean | string[];
  fail: FakeFailure | null;
  embeddingDims: number;
  /** A chat request that carries `tools` gets a call to a tool instead of text. */
  toolCalls: boolean;
  /** Keep every request in `handle.requests`. Turn off for long benchmarks (the log grows without bound). */
  logRequests: boolean;
}

/** A partial behaviour; `models` may be given as plain names. */
export type FakeBehaviourPatch = Partial<Omit<FakeBehaviour, "models"> & { models: (string | FakeModel)[] }>;

/** Options of `startFakeUpstream`: the kind, an optional fixed port (default 0: any free port), and
 * any behaviour knob (defaults in `defaultBehaviour`). */
export type FakeUpstreamOptions = { kind: FakeKind; port?: number } & FakeBehaviourPatch;

/** One received request, recorded before any delay, hang or failure applies. */
export interface FakeRequest {
  method: string;
  path: string;
  /** The search string without `?` ("" when none). */
  query: string;
  headers: Record<string, string>;
  body: string;
  /** `performance.now()` when the request arrived. */
  at: number;
  /** Status sent, or null while none was sent (hanging, delayed, or cut before headers). */
  status: number | null;
  /** The client went away before the response was complete (`req.signal` abort or stream cancel). */
  aborted: boolean;
}

export interface FakeCounters {
  /** Requests received whose response is not finished yet (streams count until their last frame). */
  readonly inFlight: number;
  readonly activeStreams: number;
  readonly peakActiveStreams: number;
  readonly streamsCompleted: number;
  readonly streamsCancelled: number;
  readonly streamsDied: number;
}

export interface FakeUpstream extends AsyncDisposable {
  readonly kind: FakeKind;
  /** http://127.0.0.1:PORT, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Read on every request: mutate it freely. */
  readonly behaviour: FakeBehaviour;
  /** Patch the behaviour; `models` may be given as names. */
  set(patch: FakeBehaviourPatch): void;
  /** The live request log, oldest first. */
  readonly requests: FakeRequest[];
  clearRequests(): void;
  readonly counters: FakeCounters;
  /** Cut every connection and free the port: connects are refused afterwards. */
  stop(): Promise<void>;
  /** Listen again on the same port (stops first if running). */
  restart(): Promise<void>;
}
