import { describe, expect, test } from "bun:test";
import { errorTrailer, streamFormat } from "../../../src/proxy/stream.ts";

const decoder = new TextDecoder();

describe("errorTrailer", () => {
  test("SSE: an error event the OpenAI SDK raises, on a fresh event boundary", () => {
    const trailer = decoder.decode(errorTrailer("sse", "cut: socket closed", 0x7d)!);
    expect(trailer.startsWith("\n\nevent: error\ndata: ")).toBe(true);
    expect(JSON.parse(trailer.split("data: ")[1]!)).toEqual({
      error: { message: "cut: socket closed", type: "upstream_error", code: "stream_interrupted" },
    });
    expect(decoder.decode(errorTrailer("sse", "x", 0x0a)!).startsWith("\nevent: error")).toBe(true);
  });

  test("SSE to an Anthropic client: the error event in Anthropic's envelope", () => {
    const trailer = decoder.decode(errorTrailer("sse", "cut: socket closed", 0x0a, "anthropic")!);
    expect(trailer.startsWith("\nevent: error\ndata: ")).toBe(true);
    expect(JSON.parse(trailer.split("data: ")[1]!)).toEqual({
      type: "error",
      error: { type: "api_error", message: "cut: socket closed" },
    });
  });

  test("NDJSON: a final object with error on its own line", () => {
    const mid = decoder.decode(errorTrailer("ndjson", "cut", 0x7d)!);
    expect(mid.startsWith("\n{")).toBe(true);
    expect(JSON.parse(mid)).toEqual({ error: "cut", done: true, done_reason: "error" });
    expect(decoder.decode(errorTrailer("ndjson", "cut", 0x0a)!).startsWith("{")).toBe(true);
  });
});

test("content types map to stream formats", () => {
  expect(streamFormat("text/event-stream; charset=utf-8")).toBe("sse");
  expect(streamFormat("application/x-ndjson")).toBe("ndjson");
  expect(streamFormat("application/json")).toBe("opaque");
  expect(streamFormat(null)).toBe("opaque");
  expect(errorTrailer("opaque", "x", undefined)).toBeNull();
});
