// One Anthropic Messages request as /internal/stats/translators counts it: what the route learns on
// the way (streamed or not, passthrough or translation and why) is kept beside the request's record
// and counted once, when the request is over (a stream: at its end).

import type { RequestRecord, RouteContext } from "../http/router.ts";
import type { FallbackReason, TranslatorMode, TranslatorStats } from "../stats/translator-stats.ts";

export interface TranslatorTrace {
  /** The body asked for `stream: true`. */
  streaming: boolean;
  /** The last endpoint tried took the request this way; undefined while none was tried. */
  mode: TranslatorMode | undefined;
  fallback: FallbackReason | undefined;
}

const traces = new WeakMap<RequestRecord, TranslatorTrace>();

/** Follows the request in `context` and counts it under `translator` when it is over. */
export function traceRequest(context: RouteContext, translator: string, stats: TranslatorStats): void {
  const trace: TranslatorTrace = { streaming: false, mode: undefined, fallback: undefined };
  traces.set(context.record, trace);
  context.whenFinished((record) => {
    stats.record(translator, {
      // Answered without an endpoint (bad request, no endpoint for the model): translation, as Olla
      // counts it.
      mode: trace.mode ?? "translation",
      fallback: trace.mode === "passthrough" ? undefined : trace.fallback,
      streaming: trace.streaming,
      // An error answer, a stream cut by the endpoint, a client that left: failed.
      success: record.status < 400 && record.failure === undefined,
      durationMs: performance.now() - record.started,
    });
  });
}

/** The trace of a request traceRequest follows (none for a request it does not). */
export function traceOf(record: RequestRecord | undefined): TranslatorTrace | undefined {
  return record === undefined ? undefined : traces.get(record);
}
