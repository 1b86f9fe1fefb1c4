// Watches one proxied answer on the side, without wrapping its stream: time to first byte, bytes, and
// the token usage it carries; fills the request record and finishes it when the answer is over.

import type { RequestRecord } from "../http/router.ts";
import { UsageWatcher } from "../stats/usage.ts";
import type { BodyOutcome } from "./upstream/index.ts";

/** One object per answer, methods on the prototype: no closures per request. */
export class AnswerObserver {
  private readonly usage = new UsageWatcher();
  private firstAt: number | undefined = undefined;
  private ended: BodyOutcome | undefined = undefined;
  private endedAt = 0;
  private deferred = false;
  private counted = false;

  /** `context.finish()` ends a deferred record; `traffic` is the answering endpoint's, which gets the
   * answer's bytes once it is over. */
  constructor(
    private readonly context: { readonly record: RequestRecord; finish(): void },
    private readonly traffic?: { bytesOut: number },
  ) {}

  /** The body ended complete already: the upstream client had it whole with the head. */
  get complete(): boolean {
    return this.ended === "complete";
  }

  onChunk(chunk: Uint8Array): void {
    if (this.firstAt === undefined) {
      this.firstAt = performance.now();
      this.context.record.ttftMs = this.firstAt - this.context.record.started;
    }
    this.context.record.bytesOut += chunk.byteLength;
    this.usage.push(chunk);
  }

  onBodyEnd(outcome: BodyOutcome): void {
    if (this.ended !== undefined) return;
    this.ended = outcome;
    this.endedAt = performance.now();
    if (this.deferred) {
      this.settle();
      this.context.finish();
    }
  }

  /** The handler is about to return the streamed body: finish the record when it ends. */
  streaming(): void {
    if (this.ended !== undefined) {
      // The whole answer was already in when the handler got it (small streams arrive in one read).
      this.settle();
      this.context.record.deferred = false;
      return;
    }
    this.deferred = true;
    this.context.record.deferred = true;
  }

  /** The answer was read whole by the handler (or had no body). */
  whole(bytes: Uint8Array | null): void {
    const record = this.context.record;
    // A whole answer is not a stream: no time to first token for it.
    record.ttftMs = undefined;
    record.streamMs = undefined;
    if (bytes !== null) {
      record.bytesOut = bytes.byteLength;
      this.usage.push(bytes);
    }
    this.ended ??= "complete";
    this.settle();
  }

  private settle(): void {
    const record = this.context.record;
    if (this.traffic !== undefined && !this.counted) {
      this.counted = true;
      this.traffic.bytesOut += record.bytesOut;
    }
    if (this.firstAt !== undefined && this.endedAt > 0) record.streamMs = this.endedAt - this.firstAt;
    if (this.ended === "complete") {
      const usage = this.usage.result();
      if (usage) record.usage = usage;
    } else if (this.ended === "failed") record.failure ??= "mid_stream";
    else if (this.ended === "cancelled") record.failure ??= "client_gone";
  }
}
