// Upstream OpenAI SSE bytes → Anthropic SSE bytes (`event: <type>\ndata: <json>\n\n`), synchronously:
// every push returns at once what its bytes complete, so nothing waits for the next chunk.
import { upstreamMessage } from "./errors.ts";
import type { ResponseContext } from "./request.ts";
import { Chunk, ErrorBody } from "./schema-openai.ts";
import type { StreamEvent } from "./schema-response.ts";
import { createSseDecoder, type SseData, SseLineTooLongError } from "./sse-decoder.ts";
import { createStreamSteps } from "./stream-events.ts";
import { checker } from "./validate.ts";

export interface StreamTranslatorOptions {
  /** Message id for message_start (default: a fresh msg_01…). */
  messageId?: string;
  /** Longest upstream SSE line accepted before the stream fails (default 16 MiB). */
  maxLine?: number;
}

export interface StreamTranslator {
  /** message_start, the first bytes to send (empty if already sent). */
  start(): Uint8Array;
  /** Upstream bytes, in whatever chunking → the Anthropic SSE bytes they complete (possibly none). */
  push(bytes: Uint8Array): Uint8Array;
  /** The upstream body ended. Complete answer → closing events; cut short → an error event. */
  end(): Uint8Array;
  /** The upstream failed (socket error, timeout): an Anthropic `error` event. */
  fail(message: string): Uint8Array;
  /** A `ping` event (nothing once the stream is over). */
  ping(): Uint8Array;
  /** message_stop or error was produced: the client stream can close; later input is ignored. */
  readonly done: boolean;
  /** Upstream lines that were neither JSON chunks nor known markers (skipped), for a log line. */
  readonly skipped: number;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const PING = encoder.encode('event: ping\ndata: {"type":"ping"}\n\n');
const chunkSchema = checker(Chunk);
const errorBody = checker(ErrorBody);

/** One SSE frame per event. */
function encodeEvents(events: readonly StreamEvent[]): Uint8Array {
  if (events.length === 0) return EMPTY;
  let text = "";
  for (const event of events) text += `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  return encoder.encode(text);
}

export function createStreamTranslator(
  context: ResponseContext,
  options: StreamTranslatorOptions = {},
): StreamTranslator {
  const steps = createStreamSteps(context, options.messageId);
  const decoder = createSseDecoder(options.maxLine);
  let skipped = 0;

  function handle(lines: SseData[], out: StreamEvent[]): void {
    for (const { event, data } of lines) {
      if (steps.phase !== "open") return;
      if (data === "[DONE]") {
        out.push(...steps.finish());
        continue;
      }
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        if (event === "error") out.push(...steps.fail(data || "upstream error"));
        else skipped++;
        continue;
      }
      // An error in the stream: `event: error` (olla's own cut-stream trailer), a bare `{"error":...}`
      // chunk (llama.cpp, Ollama, vLLM) or vLLM's older `{"object":"error","message":...}`.
      if (event === "error" || isErrorChunk(value)) {
        const message = errorBody.check(value) ? upstreamMessage(value) : undefined;
        out.push(...steps.fail(message ?? "upstream error"));
        continue;
      }
      if (chunkSchema.check(value)) out.push(...steps.chunk(value));
      else skipped++;
    }
  }

  function guarded(read: () => SseData[]): Uint8Array {
    const out: StreamEvent[] = [];
    try {
      handle(read(), out);
    } catch (error) {
      if (!(error instanceof SseLineTooLongError)) throw error;
      out.push(...steps.fail(error.message));
    }
    return encodeEvents(out);
  }

  return {
    start: () => encodeEvents(steps.start()),
    push(bytes) {
      if (steps.phase !== "open") return EMPTY;
      return guarded(() => decoder.push(bytes));
    },
    end() {
      if (steps.phase !== "open") return EMPTY;
      const head = guarded(() => decoder.end());
      if (steps.phase !== "open") return head;
      // No [DONE]: a finish_reason still makes the answer whole; without one it was cut.
      const tail = encodeEvents(
        steps.finishSeen
          ? steps.finish()
          : steps.fail("upstream stream ended before the answer was complete"),
      );
      return concat(head, tail);
    },
    fail: (message) => encodeEvents(steps.fail(message)),
    ping() {
      if (steps.phase !== "open") return EMPTY;
      const head = encodeEvents(steps.start());
      return head.length > 0 ? concat(head, PING) : PING;
    },
    get done() {
      return steps.phase !== "open";
    },
    get skipped() {
      return skipped;
    },
  };
}

function isErrorChunk(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  return ("error" in value && !("choices" in value)) || (value as { object?: unknown }).object === "error";
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
