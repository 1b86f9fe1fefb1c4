// A response body stream fed from socket reads: a Bun "direct" ReadableStream written once and flushed
// once per upstream read (no coalescing), which pauses the upstream while the consumer lags behind.
// Classes, not closures: a stream lives as long as its answer, thousands at once, and a sink of
// closures kept a dozen functions and their scopes alive per stream.

export interface BodySinkHooks {
  /** The consumer is behind: stop reading the upstream socket. */
  pause(): void;
  /** The consumer caught up: read again. */
  resume(): void;
  /** The consumer cancelled the body (or went away): the upstream socket must be destroyed. */
  cancel(): void;
}

/** What Bun uses for a direct stream given no highWaterMark. */
const BUN_DIRECT_HIGH_WATER_MARK = 64 * 1024;

/** The stream's underlying source: hands the consumer's controller to the sink on the first pull. */
class DirectSource implements Bun.DirectUnderlyingSource<Uint8Array> {
  readonly type = "direct";
  constructor(private readonly sink: BodySink) {}

  // A reader calls pull for every read; only the first one matters, later writes go straight through.
  pull(controller: ReadableStreamDirectController): void {
    this.sink.attach(controller);
  }

  cancel(): void {
    this.sink.cancel();
  }
}

export class BodySink {
  readonly stream: ReadableStream<Uint8Array>;
  private controller: ReadableStreamDirectController | null = null;
  // Reads that arrive before the consumer's first pull wait here, copied: the socket's buffer is not ours.
  private early: Uint8Array[] | null = null;
  private earlyBytes = 0;
  private outcome: "end" | Error | null = null;
  private done = false;
  // Two reasons to hold the upstream: too many bytes before the first pull, or a write awaiting drain.
  private earlyFull = false;
  private draining = false;
  private paused = false;

  constructor(
    private readonly highWaterMark: number,
    private readonly hooks: BodySinkHooks,
  ) {
    // The mark is how much a JS reader's side buffers before a write waits. Bun's default is olla's
    // 64 KiB; given explicitly, Bun's HTTP response sink also preallocates that much per stream (about
    // 5 KB resident each at 5,000 held streams, measured), so it is passed only when it differs.
    this.stream = new ReadableStream<Uint8Array>(
      new DirectSource(this),
      highWaterMark === BUN_DIRECT_HIGH_WATER_MARK ? undefined : { highWaterMark },
    );
  }

  /** True once ended, failed or cancelled. */
  get finished(): boolean {
    return this.done;
  }

  /** Queue bytes; `chunk` may be a view into a buffer the caller reuses. */
  write(chunk: Uint8Array): void {
    if (this.done) return;
    if (this.controller !== null) {
      this.writeDirect(this.controller, chunk);
      return;
    }
    this.early ??= [];
    // new Uint8Array copies; Buffer#slice would only make another view.
    this.early.push(new Uint8Array(chunk));
    this.earlyBytes += chunk.byteLength;
    if (!this.earlyFull && this.earlyBytes >= this.highWaterMark) {
      this.earlyFull = true;
      this.updatePause();
    }
  }

  /** Hand everything written since the last flush to the consumer (call once per upstream read). */
  flush(): void {
    if (!this.done && this.controller !== null) this.controller.flush();
  }

  /** Clean end of the body. */
  end(): void {
    if (this.done) return;
    this.done = true;
    if (this.controller !== null) this.controller.close();
    else this.outcome = "end";
  }

  /** The body failed: the consumer's read rejects with `err` (never a clean end). */
  fail(err: Error): void {
    if (this.done) return;
    this.done = true;
    if (this.controller !== null) this.controller.close(err);
    else this.outcome = err;
  }

  /** The consumer's first pull: what arrived before it goes out, then writes go straight through. */
  attach(c: ReadableStreamDirectController): void {
    if (this.controller !== null) return;
    this.controller = c;
    const queued = this.early;
    this.early = null;
    this.earlyBytes = 0;
    if (queued !== null) for (const chunk of queued) this.writeDirect(c, chunk);
    if (this.outcome === "end") {
      c.close();
      return;
    }
    if (this.outcome !== null) {
      c.close(this.outcome);
      return;
    }
    if (queued !== null) c.flush();
    this.earlyFull = false;
    this.updatePause();
  }

  /** The consumer is gone: reported once. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.early = null;
    this.hooks.cancel();
  }

  private writeDirect(c: ReadableStreamDirectController, chunk: Uint8Array): void {
    const r = c.write(chunk);
    if (typeof r === "number") {
      // 0 for a non-empty chunk: the destination is gone (HTTP client disconnected).
      if (r === 0 && chunk.byteLength > 0) this.cancel();
      return;
    }
    if (!this.draining) {
      this.draining = true;
      this.updatePause();
      // Only a slow consumer gets here, so only it pays for these two functions.
      r.then(
        () => this.drained(),
        () => this.drained(),
      );
    }
  }

  private drained(): void {
    this.draining = false;
    this.updatePause();
  }

  private updatePause(): void {
    const want = (this.earlyFull || this.draining) && !this.done;
    if (want === this.paused) return;
    this.paused = want;
    if (want) this.hooks.pause();
    else this.hooks.resume();
  }
}
