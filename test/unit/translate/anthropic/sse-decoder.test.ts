import { describe, expect, test } from "bun:test";
import {
  createSseDecoder,
  SseLineTooLongError,
  type SseData,
} from "../../../../src/translate/anthropic/sse-decoder.ts";
import { bytes } from "./fixtures.ts";

function decodeAll(pieces: Uint8Array[]): SseData[] {
  const decoder = createSseDecoder();
  const out: SseData[] = [];
  for (const piece of pieces) out.push(...decoder.push(piece));
  out.push(...decoder.end());
  return out;
}

const input =
  ": keep-alive comment\n" +
  'data: {"a":1}\n\n' +
  'data:{"b":"é€😀"}\r\n\r\n' +
  "event: error\r\n" +
  'data: {"error":{"message":"boom"}}\n\n' +
  "id: 7\nretry: 100\ndata: after\rdata: [DONE]\r\r";

const expected: SseData[] = [
  { data: '{"a":1}' },
  { data: '{"b":"é€😀"}' },
  { event: "error", data: '{"error":{"message":"boom"}}' },
  { data: "after" },
  { data: "[DONE]" },
];

describe("SSE decoder", () => {
  test("LF, CRLF and CR line ends; comments and other fields ignored; event name per event", () => {
    expect(decodeAll([bytes(input)])).toEqual(expected);
  });

  test("any chunking gives the same data: every two-piece cut and byte by byte (split UTF-8, split CRLF)", () => {
    const all = bytes(input);
    for (let cut = 1; cut < all.length; cut++) {
      expect(decodeAll([all.slice(0, cut), all.slice(cut)])).toEqual(expected);
    }
    expect(decodeAll([...all].map((b) => new Uint8Array([b])))).toEqual(expected);
  });

  test("each data line is handed on at its line end, before the blank line", () => {
    const decoder = createSseDecoder();
    expect(decoder.push(bytes('data: {"x":'))).toEqual([]);
    expect(decoder.push(bytes("1}\n"))).toEqual([{ data: '{"x":1}' }]);
    expect(decoder.push(bytes("\n"))).toEqual([]);
  });

  test("a last line without a line end counts at end()", () => {
    const decoder = createSseDecoder();
    expect(decoder.push(bytes("data: [DONE]"))).toEqual([]);
    expect(decoder.end()).toEqual([{ data: "[DONE]" }]);
  });

  test("a line past the limit throws", () => {
    const decoder = createSseDecoder(10);
    expect(decoder.push(bytes("data: 1234"))).toEqual([]);
    expect(() => decoder.push(bytes("567890"))).toThrow(SseLineTooLongError);
  });
});
