// Writes a fake answer frame by frame (one SSE event or NDJSON line per write) with the configured pacing,
// a quiet gap, and an abrupt cut: erroring the body makes Bun.serve drop the socket without the final chunk.
import type { QuietGap } from "./fake-types.ts";

export type StreamOutcome = "complete" | "cancelled" | "died";

export interface FrameStreamOptions {
  frames: string[];
  delayMs: number;
  quietGap: QuietGap | null;
  /** Error the body before writing frame number `dieAfter` (0: before any byte, so before headers). */
  dieAfter: number | null;
  signal: AbortSignal;
  /** Called once, when the stream ends for whatever reason. */
  onEnd(outcome: StreamOutcome): void;
}

/** Resolves after `ms`, or at once when `signal` aborts. Always yields to the event loop. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export function frameStream(o: FrameStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sent = 0;
  let ended = false;
  const end = (outcome: StreamOutcome) => {
    if (ended) return;
    ended = true;
    o.onEnd(outcome);
  };
  if (o.signal.aborted) end("cancelled");
  else o.signal.addEventListener("abort", () => end("cancelled"), { once: true });
  return new ReadableStream<Uint8Array>(
    {
      // Pull runs only once the previous frame was taken, so every frame is its own write. The error
      // is raised on a later tick than the last frame: erroring synchronously would drop queued bytes.
      async pull(controller) {
        const gap = o.quietGap && sent > 0 && sent === o.quietGap.afterFrames ? o.quietGap.ms : 0;
        await sleep(sent === 0 ? 0 : o.delayMs + gap, o.signal);
        if (ended) return;
        if (o.dieAfter !== null && sent >= o.dieAfter) {
          end("died");
          controller.error(new Error("fake upstream: dieMidStream"));
          return;
        }
        if (sent >= o.frames.length) {
          end("complete");
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(o.frames[sent]!));
        sent++;
        if (sent >= o.frames.length && (o.dieAfter === null || o.dieAfter > sent)) {
          end("complete");
          controller.close();
        }
      },
      cancel() {
        end("cancelled");
      },
    },
    { highWaterMark: 0 },
  );
}
