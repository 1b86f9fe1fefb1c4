import { describe, expect, test } from "bun:test";
import { errorTrailer, relayStream, type StreamEnd, streamFormat } from "../../../src/proxy/stream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function source(chunks: string[], failAfter?: Error) {
  let index = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index < chunks.length) controller.enqueue(encoder.encode(chunks[index++] as string));
      else if (failAfter) controller.error(failAfter);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, wasCancelled: () => cancelled };
}

async function readAll(stream: ReadableStream<Uint8Array>) {
  const reads: string[] = [];
  for await (const chunk of stream) reads.push(decoder.decode(chunk));
  return reads;
}

describe("relayStream", () => {
  test("passes chunks through one by one and reports a complete end", async () => {
    const ends: StreamEnd[] = [];
    const { stream } = source(["data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"]);
    const reads = await readAll(
      relayStream(stream, { format: "sse", onEnd: (e) => ends.push(e), describeError: String }),
    );
    expect(reads).toEqual(["data: 1\n\n", "data: 2\n\n", "data: [DONE]\n\n"]);
    expect(ends).toEqual([expect.objectContaining({ outcome: "complete", bytes: 32 })]);
  });

  test("an SSE upstream failure ends with an error event, not a clean-looking end", async () => {
    const ends: StreamEnd[] = [];
    const { stream } = source(['data: {"x":1}\n\n', 'data: {"x"'], new Error("socket closed"));
    const reads = await readAll(
      relayStream(stream, {
        format: "sse",
        onEnd: (e) => ends.push(e),
        describeError: (e) => `cut: ${(e as Error).message}`,
      }),
    );
    const trailer = reads.at(-1)!;
    expect(trailer.startsWith("\n\nevent: error\ndata: ")).toBe(true);
    expect(JSON.parse(trailer.split("data: ")[1]!)).toEqual({
      error: { message: "cut: socket closed", type: "upstream_error", code: "stream_interrupted" },
    });
    expect(ends[0]!.outcome).toBe("upstream_failed");
  });

  test("an NDJSON failure ends with an error object on its own line", async () => {
    const { stream } = source(['{"response":"a","done":false}\n'], new Error("reset"));
    const reads = await readAll(
      relayStream(stream, { format: "ndjson", onEnd: () => {}, describeError: () => "cut" }),
    );
    expect(JSON.parse(reads.at(-1)!)).toEqual({ error: "cut", done: true, done_reason: "error" });
  });

  test("an opaque body failure errors the stream", async () => {
    const { stream } = source(['{"partial":'], new Error("reset"));
    await expect(
      readAll(relayStream(stream, { format: "opaque", onEnd: () => {}, describeError: String })),
    ).rejects.toThrow("reset");
  });

  test("a client cancel cancels the upstream and reports client_gone", async () => {
    const ends: StreamEnd[] = [];
    const { stream, wasCancelled } = source(["a", "b", "c"]);
    const relayed = relayStream(stream, { format: "sse", onEnd: (e) => ends.push(e), describeError: String });
    const reader = relayed.getReader();
    await reader.read();
    await reader.cancel("gone");
    expect(wasCancelled()).toBe(true);
    expect(ends).toEqual([expect.objectContaining({ outcome: "client_gone" })]);
  });

  test("the upstream is read only as fast as the client reads (backpressure)", async () => {
    let pulls = 0;
    const upstream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          controller.enqueue(new Uint8Array(1024));
        },
      },
      { highWaterMark: 0 },
    );
    const reader = relayStream(upstream, {
      format: "opaque",
      onEnd: () => {},
      describeError: String,
    }).getReader();
    await reader.read();
    await reader.read();
    await Bun.sleep(20);
    expect(pulls).toBeLessThanOrEqual(3);
    await reader.cancel();
  });
});

test("content types map to stream formats", () => {
  expect(streamFormat("text/event-stream; charset=utf-8")).toBe("sse");
  expect(streamFormat("application/x-ndjson")).toBe("ndjson");
  expect(streamFormat("application/json")).toBe("opaque");
  expect(streamFormat(null)).toBe("opaque");
  expect(errorTrailer("opaque", "x", undefined)).toBeNull();
});
