// Watches one proxied answer on the side, without wrapping its stream: time to first byte, bytes, and
// the token usage at its end; fills the request record and finishes it when the answer is over.

import type { RequestRecord } from "../http/router.ts";
import { createTailKeeper, usageFromTail } from "../stats/usage.ts";
import type { BodyOutcome } from "./upstream/index.ts";

export interface AnswerObserver {
  onChunk: (chunk: Uint8Array) => void;
  onBodyEnd: (outcome: BodyOutcome) => void;
  /** The body ended complete already: the upstream client had it whole with the head. */
  readonly complete: boolean;
  /** The handler is about to return the streamed body: finish the record when it ends. */
  streaming(): void;
  /** The answer was read whole by the handler (or had no body). */
  whole(bytes: Uint8Array | null): void;
}

export function observeAnswer(record: RequestRecord, finish: () => void): AnswerObserver {
  const tail = createTailKeeper();
  let firstAt: number | undefined;
  let ended: BodyOutcome | undefined;
  let endedAt = 0;
  let deferred = false;

  const settle = () => {
    if (firstAt !== undefined && endedAt > 0) record.streamMs = endedAt - firstAt;
    if (ended === "complete") {
      const usage = usageFromTail(tail.text());
      if (usage) record.usage = usage;
    } else if (ended === "failed") record.failure ??= "mid_stream";
    else if (ended === "cancelled") record.failure ??= "client_gone";
  };

  return {
    get complete() {
      return ended === "complete";
    },
    onChunk(chunk) {
      if (firstAt === undefined) {
        firstAt = performance.now();
        record.ttftMs = firstAt - record.started;
      }
      record.bytesOut += chunk.byteLength;
      tail.push(chunk);
    },
    onBodyEnd(outcome) {
      if (ended !== undefined) return;
      ended = outcome;
      endedAt = performance.now();
      if (deferred) {
        settle();
        finish();
      }
    },
    streaming() {
      if (ended !== undefined) {
        // The whole answer was already in when the handler got it (small streams arrive in one read).
        settle();
        record.deferred = false;
        return;
      }
      deferred = true;
      record.deferred = true;
    },
    whole(bytes) {
      // A whole answer is not a stream: no time to first token for it.
      record.ttftMs = undefined;
      record.streamMs = undefined;
      if (bytes !== null) {
        record.bytesOut = bytes.byteLength;
        tail.push(bytes);
      }
      ended ??= "complete";
      settle();
    },
  };
}
