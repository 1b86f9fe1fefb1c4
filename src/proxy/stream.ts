// Passes a streamed answer through chunk by chunk (no coalescing, backpressure kept: the upstream
// is read only when the client reads), notices its end, and turns an upstream failure mid-stream
// into the protocol's own error event, so a cut answer never looks like a complete one.

export type StreamFormat = "sse" | "ndjson" | "opaque";

export function streamFormat(contentType: string | null): StreamFormat {
  if (!contentType) return "opaque";
  if (contentType.includes("text/event-stream")) return "sse";
  if (
    contentType.includes("ndjson") ||
    contentType.includes("jsonl") ||
    contentType.includes("stream+json")
  ) {
    return "ndjson";
  }
  return "opaque";
}

const encoder = new TextEncoder();

/** The error a client library reads at the end of a cut stream (OpenAI SDK: SSE `error` event;
 *  Ollama client: an NDJSON object with `error`). Starts a fresh line if the cut fell mid-line. */
export function errorTrailer(
  format: StreamFormat,
  message: string,
  lastByte: number | undefined,
): Uint8Array | null {
  if (format === "sse") {
    const lead = lastByte === 0x0a ? "\n" : "\n\n";
    const data = JSON.stringify({ error: { message, type: "upstream_error", code: "stream_interrupted" } });
    return encoder.encode(`${lead}event: error\ndata: ${data}\n\n`);
  }
  if (format === "ndjson") {
    const lead = lastByte === 0x0a ? "" : "\n";
    return encoder.encode(`${lead}${JSON.stringify({ error: message, done: true, done_reason: "error" })}\n`);
  }
  return null;
}

export interface StreamEnd {
  /** "complete", "client_gone" (the client cancelled), or "upstream_failed". */
  outcome: "complete" | "client_gone" | "upstream_failed";
  bytes: number;
  /** performance.now() of the first chunk, if any arrived. */
  firstChunkAt?: number;
  error?: unknown;
}

export interface RelayOptions {
  format: StreamFormat;
  /** Called exactly once, when the stream ends in any way. */
  onEnd: (end: StreamEnd) => void;
  /** Text of the error event for an upstream failure. */
  describeError: (error: unknown) => string;
}

export function relayStream(
  source: ReadableStream<Uint8Array>,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let bytes = 0;
  let firstChunkAt: number | undefined;
  let lastByte: number | undefined;
  let ended = false;
  const end = (outcome: StreamEnd["outcome"], error?: unknown) => {
    if (ended) return;
    ended = true;
    options.onEnd({ outcome, bytes, firstChunkAt, error });
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (ended) return;
          end("upstream_failed", error);
          const trailer = errorTrailer(options.format, options.describeError(error), lastByte);
          if (!trailer) {
            // No in-band way to say it: fail the response so the client sees a broken transfer.
            controller.error(error);
            return;
          }
          controller.enqueue(trailer);
          controller.close();
          return;
        }
        if (chunk.done) {
          end("complete");
          controller.close();
          return;
        }
        const value = chunk.value;
        if (firstChunkAt === undefined) firstChunkAt = performance.now();
        bytes += value.byteLength;
        if (value.byteLength > 0) lastByte = value[value.byteLength - 1];
        controller.enqueue(value);
      },
      cancel(reason) {
        end("client_gone");
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
