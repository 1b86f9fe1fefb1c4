// What a fake route handler gets: the parsed request and the server's helpers that apply the
// behaviour knobs (model loading, paced streams, faults), so wire-format files only build bodies.
import type { ModelInfo } from "./fake-models.ts";
import type { FakeBehaviour, FakeKind } from "./fake-types.ts";

export interface RouteContext {
  kind: FakeKind;
  behaviour: FakeBehaviour;
  path: string;
  /** The JSON request body when it is an object, else `{}`. */
  body: Record<string, unknown>;
  signal: AbortSignal;
  /** Every model the fake serves, defaults filled. */
  models(): ModelInfo[];
  /** The model a request names (null when unknown); waits `loadDelayMs` if it is not loaded yet. */
  useModel(name: unknown): Promise<ModelInfo | null>;
  /** A streamed answer, one frame per write, with the behaviour's pacing and faults. */
  stream(frames: string[], contentType: string): Response;
  /** A non-streamed inference answer (honours `dieMidStream`). */
  answer(value: unknown): Response;
}

export type RouteHandler = (ctx: RouteContext) => Response | Promise<Response>;

export interface Route {
  /** Health, version and model-list routes take `healthDelayMs`; the others `headerDelayMs`. */
  probe: boolean;
  handle: RouteHandler;
}

export const SSE = "text/event-stream; charset=utf-8";
export const NDJSON = "application/x-ndjson";

export function sseFrame(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}
