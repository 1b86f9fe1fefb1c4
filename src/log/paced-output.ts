// Log batches handed to a stream (stdout, stderr, a file) only as fast as it takes them. A reader that
// falls behind (`olla | less` left unscrolled, a stuck log shipper) must cost bounded memory, as docker's
// non-blocking log mode does: Bun's own stdout buffer grows without limit (measured: a stalled reader took
// olla from 44 to 135 MB in 12 s at 64 clients, still rising). Batches wait in a queue of at most
// LOG_MAX_PENDING_BYTES; past it they are dropped and counted, and one warning says how many once the
// reader has caught up.

/** About 11,000 access-log lines: seconds of full load, for a reader that pauses rather than stops. */
export const LOG_MAX_PENDING_BYTES = 4 * 1024 * 1024;

/** What the output needs of a Node Writable: write() says false when the stream's buffer is full, and
 * "drain" follows once it has room again. */
export interface BatchStream {
  write(bytes: Uint8Array): boolean;
  on(event: "drain", listener: () => void): unknown;
}

export interface PacedOutput {
  /** Hands a batch on, queues it while the stream is full, or drops it past the limit. */
  write(batch: Uint8Array): void;
  /** The queued batches, taken out (written synchronously at exit). */
  take(): Uint8Array[];
  /** Resolves once every queued batch went to the stream. */
  idle(): Promise<void>;
  /** Bytes waiting in the queue. */
  pendingBytes(): number;
}

export interface PacedOutputOptions {
  maxPendingBytes?: number;
  /** Told, once the queue has emptied again, how many lines were dropped while it was full. */
  onDropped?: (lines: number) => void;
}

const LF = 10;

export function pacedOutput(stream: BatchStream, options: PacedOutputOptions = {}): PacedOutput {
  const maxPendingBytes = options.maxPendingBytes ?? LOG_MAX_PENDING_BYTES;
  const queue: Uint8Array[] = [];
  let pending = 0;
  let full = false;
  let dropped = 0;
  let waiters: (() => void)[] = [];

  stream.on("drain", () => {
    full = false;
    while (!full && queue.length > 0) {
      const batch = queue.shift()!;
      pending -= batch.byteLength;
      full = !stream.write(batch);
    }
    if (full) return;
    // Caught up: say what was lost (the notice is a log line itself, and comes back through write()).
    if (dropped > 0) {
      const lines = dropped;
      dropped = 0;
      options.onDropped?.(lines);
    }
    const done = waiters;
    waiters = [];
    for (const resolve of done) resolve();
  });

  return {
    write(batch) {
      if (!full && queue.length === 0) {
        full = !stream.write(batch);
        return;
      }
      if (pending + batch.byteLength > maxPendingBytes) {
        dropped += countLines(batch);
        return;
      }
      queue.push(batch);
      pending += batch.byteLength;
    },
    take() {
      const taken = queue.splice(0);
      pending = 0;
      return taken;
    },
    idle() {
      if (queue.length === 0 && !full) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    pendingBytes: () => pending,
  };
}

/** The lines in a batch of log lines (each ends in a newline). */
export function countLines(batch: Uint8Array): number {
  let lines = 0;
  for (let at = batch.indexOf(LF); at !== -1; at = batch.indexOf(LF, at + 1)) lines++;
  return lines;
}
