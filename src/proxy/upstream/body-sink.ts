// A response body stream fed from socket reads: a Bun "direct" ReadableStream written once and flushed
// once per upstream read (no coalescing), which pauses the upstream while the consumer lags behind.

export interface BodySinkHooks {
  /** The consumer is behind: stop reading the upstream socket. */
  pause(): void;
  /** The consumer caught up: read again. */
  resume(): void;
  /** The consumer cancelled the body (or went away): the upstream socket must be destroyed. */
  cancel(): void;
}

export interface BodySink {
  readonly stream: ReadableStream<Uint8Array>;
  /** Queue bytes; `chunk` may be a view into a buffer the caller reuses. */
  write(chunk: Uint8Array): void;
  /** Hand everything written since the last flush to the consumer (call once per upstream read). */
  flush(): void;
  /** Clean end of the body. */
  end(): void;
  /** The body failed: the consumer's read rejects with `err` (never a clean end). */
  fail(err: Error): void;
  /** True once ended, failed or cancelled. */
  readonly finished: boolean;
}

export function createBodySink(highWaterMark: number, hooks: BodySinkHooks): BodySink {
  let controller: ReadableStreamDirectController | null = null;
  // Reads that arrive before the consumer's first pull wait here, copied: the socket's buffer is not ours.
  let early: Uint8Array[] | null = null;
  let earlyBytes = 0;
  let outcome: "end" | Error | null = null;
  let finished = false;
  // Two reasons to hold the upstream: too many bytes before the first pull, or a write awaiting drain.
  let earlyFull = false;
  let draining = false;
  let paused = false;

  const updatePause = () => {
    const want = (earlyFull || draining) && !finished;
    if (want === paused) return;
    paused = want;
    if (want) hooks.pause();
    else hooks.resume();
  };

  const onDrained = () => {
    draining = false;
    updatePause();
  };

  const writeDirect = (c: ReadableStreamDirectController, chunk: Uint8Array) => {
    const r = c.write(chunk);
    if (typeof r === "number") {
      // 0 for a non-empty chunk: the destination is gone (HTTP client disconnected).
      if (r === 0 && chunk.byteLength > 0) cancel();
      return;
    }
    if (!draining) {
      draining = true;
      updatePause();
      r.then(onDrained, onDrained);
    }
  };

  const cancel = () => {
    if (finished) return;
    finished = true;
    early = null;
    hooks.cancel();
  };

  const stream = new ReadableStream<Uint8Array>(
    {
      type: "direct",
      // A reader calls pull for every read; only the first one matters, later writes go straight through.
      pull(c: ReadableStreamDirectController) {
        if (controller !== null) return;
        controller = c;
        const queued = early;
        early = null;
        earlyBytes = 0;
        if (queued !== null) for (const chunk of queued) writeDirect(c, chunk);
        if (outcome === "end") {
          c.close();
          return;
        }
        if (outcome !== null) {
          c.close(outcome);
          return;
        }
        if (queued !== null) c.flush();
        earlyFull = false;
        updatePause();
      },
      cancel() {
        cancel();
      },
    },
    { highWaterMark },
  );

  return {
    stream,
    write(chunk) {
      if (finished) return;
      if (controller !== null) {
        writeDirect(controller, chunk);
        return;
      }
      early ??= [];
      // new Uint8Array copies; Buffer#slice would only make another view.
      early.push(new Uint8Array(chunk));
      earlyBytes += chunk.byteLength;
      if (!earlyFull && earlyBytes >= highWaterMark) {
        earlyFull = true;
        updatePause();
      }
    },
    flush() {
      if (!finished && controller !== null) controller.flush();
    },
    end() {
      if (finished) return;
      finished = true;
      if (controller !== null) controller.close();
      else outcome = "end";
    },
    fail(err) {
      if (finished) return;
      finished = true;
      if (controller !== null) controller.close(err);
      else outcome = err;
    },
    get finished() {
      return finished;
    },
  };
}
