// The streaming translation as a web stream pair for `upstream.pipeThrough(...)`. Not a TransformStream on
// purpose: when the upstream body errors, pipeTo aborts the writable side, and a TransformStream then
// errors its readable side at once, so the client would see a cut connection instead of Anthropic's
// `error` event. Here the abort writes that event and closes cleanly; the rest (backpressure, cancel
// reaching the upstream) behaves as a TransformStream does.
import type { ResponseContext } from "./request.ts";
import {
  createStreamTranslator,
  type StreamTranslator,
  type StreamTranslatorOptions,
} from "./stream-translator.ts";

export interface AnthropicStreamOptions extends StreamTranslatorOptions {
  /** Clock for ping(quietMs), in ms (default performance.now). */
  now?: () => number;
  /** Sends a `ping` whenever nothing went out for this long (0: never), as Anthropic's API does while
   *  a model thinks. The timer lives and dies with the stream. */
  pingAfterMs?: number;
}

export interface AnthropicStream extends ReadableWritablePair<Uint8Array, Uint8Array> {
  /** Sends a `ping` event if nothing was sent for `quietMs` (0: always). Returns whether one went out. */
  ping(quietMs?: number): boolean;
  /** Ends the client stream with an Anthropic `error` event (e.g. the caller's own stall timeout) and
   *  cancels the upstream. */
  fail(message: string): void;
  readonly translator: StreamTranslator;
}

/** Response headers for the translated stream. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
};

export function createAnthropicStream(
  context: ResponseContext,
  options: AnthropicStreamOptions = {},
): AnthropicStream {
  const translator = createStreamTranslator(context, options);
  const now = options.now ?? (() => performance.now());
  let readableController!: ReadableStreamDefaultController<Uint8Array>;
  let writableController!: WritableStreamDefaultController;
  let closed = false;
  let lastSent = now();
  let resume: (() => void) | undefined;
  let pinger: ReturnType<typeof setInterval> | undefined;

  /** The client stream is over (ended, failed, or the client left): nothing more goes out. */
  function close(): void {
    closed = true;
    clearInterval(pinger);
    resume?.();
  }

  function send(bytes: Uint8Array): void {
    if (closed) return;
    if (bytes.length > 0) {
      readableController.enqueue(bytes);
      lastSent = now();
    }
    if (translator.done) {
      close();
      readableController.close();
    }
  }

  function ping(quietMs = 0): boolean {
    if (closed || translator.done || now() - lastSent < quietMs) return false;
    send(translator.ping());
    return true;
  }

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readableController = controller;
        // message_start goes out before the backend's first byte: the client's first event costs nothing.
        send(translator.start());
        const every = options.pingAfterMs ?? 0;
        if (every > 0 && !closed) pinger = setInterval(() => ping(every), every / 2);
      },
      pull() {
        resume?.();
        resume = undefined;
      },
      cancel(reason) {
        // The client left: error the writable side so pipeTo cancels the upstream (frees the GPU).
        close();
        writableController.error(reason);
      },
    },
    { highWaterMark: 0 },
  );

  const writable = new WritableStream<Uint8Array>({
    start(controller) {
      writableController = controller;
    },
    async write(chunk) {
      send(translator.push(chunk));
      // Backpressure: while output waits unread, hold the upstream until the client asks for more.
      // (Not `<= 0`: with nothing queued, the client's pending read already had its pull, and
      // waiting for another would deadlock.)
      if (!closed && (readableController.desiredSize ?? 0) < 0) {
        await new Promise<void>((resolve) => (resume = resolve));
      }
    },
    close() {
      send(translator.end());
    },
    abort(reason) {
      send(translator.fail(reason instanceof Error ? reason.message : String(reason ?? "upstream failed")));
    },
  });

  return {
    readable,
    writable,
    ping,
    fail(message) {
      if (closed) return;
      send(translator.fail(message));
      writableController.error(new Error(message));
    },
    translator,
  };
}
