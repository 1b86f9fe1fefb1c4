// What a streamed answer is (SSE, NDJSON, or opaque bytes) and the error event that ends it when the
// endpoint fails mid-stream, so a cut answer never looks like a complete one.

import { type ApiFamily, errorBody } from "../http/errors.ts";

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
 *  Anthropic SDK: the same event with Anthropic's envelope; Ollama client: an NDJSON object with
 *  `error`). Starts a fresh line if the cut fell mid-line. */
export function errorTrailer(
  format: StreamFormat,
  message: string,
  lastByte: number | undefined,
  family: ApiFamily = "openai",
): Uint8Array | null {
  if (format === "sse") {
    const lead = lastByte === 0x0a ? "\n" : "\n\n";
    // SSE is OpenAI's or Anthropic's: Ollama's API streams NDJSON.
    const data = JSON.stringify(
      errorBody(family === "anthropic" ? family : "openai", 502, message, { code: "stream_interrupted" }),
    );
    return encoder.encode(`${lead}event: error\ndata: ${data}\n\n`);
  }
  if (format === "ndjson") {
    const lead = lastByte === 0x0a ? "" : "\n";
    return encoder.encode(`${lead}${JSON.stringify({ error: message, done: true, done_reason: "error" })}\n`);
  }
  return null;
}
