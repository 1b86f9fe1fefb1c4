// Bytes in, bytes out: the SSE translator and the web stream pair around it.
import { describe, expect, test } from "bun:test";
import {
  AnthropicResponseSchema,
  createAnthropicStream,
  createStreamTranslator,
  STREAM_HEADERS,
} from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";
import {
  bytes,
  chunk,
  context,
  events,
  readAll,
  sse,
  streamOf,
  text,
  trace,
  usageChunk,
} from "./fixtures.ts";
import { withTimeout } from "../../../support/with-timeout.ts";

const eventSchema = checker(AnthropicResponseSchema.StreamEvent);

const answer = sse([
  chunk({ role: "assistant", content: "" }),
  chunk({ reasoning_content: "Think é😀." }),
  chunk({ content: "<b>Hi</b> " }),
  chunk({
    tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "f", arguments: '{"k":' } }],
  }),
  chunk({ tool_calls: [{ index: 0, function: { arguments: '"v"}' } }] }),
  chunk({}, "tool_calls"),
  usageChunk(30, 8),
]);

/** Feeds pieces, returns the whole output and the output of each push. */
function feed(pieces: Uint8Array[], finish = true) {
  const translator = createStreamTranslator(context, { messageId: "msg_01fixed" });
  const outputs = [text(translator.start())];
  for (const piece of pieces) outputs.push(text(translator.push(piece)));
  if (finish) outputs.push(text(translator.end()));
  return { all: outputs.join(""), outputs, translator };
}

describe("stream translator (bytes)", () => {
  test("output is well-framed SSE whose events match the schema; event line = data type", () => {
    const list = events(feed([bytes(answer)]).all);
    for (const { data } of list) expect(eventSchema.explain(data)).toBeUndefined();
    expect(list.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  test("any chunking gives byte-identical output: byte by byte, every 7 bytes, CRLF framing", () => {
    const whole = feed([bytes(answer)]).all;
    const all = bytes(answer);
    expect(feed([...all].map((b) => new Uint8Array([b]))).all).toBe(whole);
    const sevens: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += 7) sevens.push(all.slice(i, i + 7));
    expect(feed(sevens).all).toBe(whole);
    expect(feed([bytes(answer.replaceAll("\n", "\r\n"))]).all).toBe(whole);
  });

  test("no buffering: each frame's events come out of the push that completes it", () => {
    const translator = createStreamTranslator(context);
    translator.start();
    expect(
      trace(
        events(text(translator.push(bytes(sse([chunk({ content: "a" })], false))))).map(
          (e) => e.data as never,
        ),
      ),
    ).toEqual(["block+0:text", "delta0:text_delta"]);
    expect(text(translator.push(bytes('data: {"choices":[{"index":0,"delta":{"content":"b"}')))).toBe("");
    expect(events(text(translator.push(bytes("}]}\n")))).map((e) => e.data)).toEqual([
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "b" } },
    ]);
  });

  test("[DONE] ends the message at once; later bytes are ignored", () => {
    const { outputs, translator } = feed([
      bytes(sse([chunk({ content: "x" }), chunk({}, "stop")])),
      bytes(sse([chunk({ content: "late" })])),
    ]);
    expect(trace(events(outputs[1]!).map((e) => e.data as never)).slice(-2)).toEqual([
      "message_delta",
      "message_stop",
    ]);
    expect(translator.done).toBe(true);
    expect(outputs[2]).toBe("");
    expect(outputs[3]).toBe("");
  });

  test("upstream closed after finish_reason but without [DONE]: a complete message", () => {
    const { all } = feed([bytes(sse([chunk({ content: "x" }), chunk({}, "length")], false))]);
    const list = events(all);
    expect(list.at(-2)?.data).toMatchObject({ type: "message_delta", delta: { stop_reason: "max_tokens" } });
    expect(list.at(-1)?.event).toBe("message_stop");
  });

  test("upstream closed without finish_reason or [DONE]: an error event, not a clean end", () => {
    const list = events(feed([bytes(sse([chunk({ content: "x" })], false))]).all);
    expect(list.at(-1)).toEqual({
      event: "error",
      data: {
        type: "error",
        error: { type: "api_error", message: "upstream stream ended before the answer was complete" },
      },
    });
    expect(list.some((e) => e.event === "message_stop")).toBe(false);
  });

  test.each([
    [
      'event: error\ndata: {"error":{"message":"stream interrupted","type":"upstream_error"}}\n\n',
      "stream interrupted",
    ],
    [
      'data: {"error":{"code":500,"message":"llama.cpp: context shift disabled","type":"server_error"}}\n\n',
      "llama.cpp: context shift disabled",
    ],
    ['data: {"error":"ollama: model runner stopped"}\n\n', "ollama: model runner stopped"],
    [
      'data: {"object":"error","message":"vLLM engine dead","type":"InternalServerError"}\n\n',
      "vLLM engine dead",
    ],
    ['data: {"error":{}}\n\n', "upstream error"],
    ["event: error\ndata: plain text\n\n", "plain text"],
  ])("an error inside the upstream stream → error event: %j", (frame, message) => {
    const { outputs, translator } = feed([bytes(sse([chunk({ content: "partial" })], false) + frame)], false);
    expect(events(outputs[1]!).at(-1)?.data).toEqual({
      type: "error",
      error: { type: "api_error", message },
    });
    expect(translator.done).toBe(true);
  });

  test("unparsable lines and non-chunks are skipped and counted", () => {
    const { all, translator } = feed([
      bytes(
        'data: {broken\n\ndata: {"choices":"no"}\n\n' + sse([chunk({ content: "ok" }), chunk({}, "stop")]),
      ),
    ]);
    expect(translator.skipped).toBe(2);
    expect(events(all).at(-1)?.event).toBe("message_stop");
  });

  test("a line past maxLine fails the stream with an error event", () => {
    const translator = createStreamTranslator(context, { maxLine: 64 });
    translator.start();
    const out = events(text(translator.push(bytes(`data: ${"x".repeat(100)}`))));
    expect(out.at(-1)?.data).toMatchObject({
      type: "error",
      error: { message: "upstream SSE line longer than 64 characters" },
    });
  });

  test("ping: message_start first if needed, nothing once done; fail after done is a no-op", () => {
    const translator = createStreamTranslator(context);
    expect(events(text(translator.ping())).map((e) => e.event)).toEqual(["message_start", "ping"]);
    expect(text(translator.ping())).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    translator.push(bytes(sse([chunk({}, "stop")])));
    expect(translator.ping().length).toBe(0);
    expect(translator.fail("x").length).toBe(0);
    expect(translator.end().length).toBe(0);
  });

  test("per-chunk work stays small (loose bound: 2,000 chunks well under 1 ms each)", () => {
    const translator = createStreamTranslator(context);
    translator.start();
    const frames = Array.from({ length: 2000 }, (_, i) =>
      bytes(sse([chunk({ content: `token${i} ` })], false)),
    );
    const started = performance.now();
    for (const frame of frames) translator.push(frame);
    const perChunk = (performance.now() - started) / frames.length;
    expect(perChunk).toBeLessThan(0.25);
  });
});

describe("createAnthropicStream (pipeThrough pair)", () => {
  test("message_start is readable before the upstream sends a byte", async () => {
    const stream = createAnthropicStream(context);
    const reader = stream.readable.getReader();
    const first = await reader.read();
    expect(events(text(first.value!)).map((e) => e.event)).toEqual(["message_start"]);
    reader.releaseLock();
    expect(STREAM_HEADERS["content-type"]).toStartWith("text/event-stream");
  });

  test("a complete upstream: full event sequence, then the readable closes", async () => {
    const out = await readAll(streamOf([bytes(answer)]).pipeThrough(createAnthropicStream(context)));
    expect(events(out).at(-1)?.event).toBe("message_stop");
  });

  test("the upstream body erroring mid-stream becomes an error event and a clean close", async () => {
    const out = await readAll(
      streamOf([bytes(sse([chunk({ content: "par" })], false))], new Error("socket hang up")).pipeThrough(
        createAnthropicStream(context),
      ),
    );
    const list = events(out);
    expect(trace(list.map((e) => e.data as never))).toEqual([
      "message_start",
      "block+0:text",
      "delta0:text_delta",
      "error",
    ]);
    expect(list.at(-1)?.data).toEqual({
      type: "error",
      error: { type: "api_error", message: "socket hang up" },
    });
  });

  test("the client leaving cancels the upstream at once, even while it is quiet", async () => {
    let cancelled: unknown;
    const upstream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(sse([chunk({ content: "a" })], false)));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const reader = upstream.pipeThrough(createAnthropicStream(context)).getReader();
    await reader.read();
    await reader.cancel("client went away");
    await Bun.sleep(5);
    expect(cancelled).toBe("client went away");
  });

  test("fail(): error event to the client and the upstream is cancelled", async () => {
    let cancelled = false;
    const upstream = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true;
      },
    });
    const stream = createAnthropicStream(context);
    const readable = upstream.pipeThrough(stream);
    stream.fail("no first token within 30 s");
    expect(events(await readAll(readable)).map((e) => e.event)).toEqual(["message_start", "error"]);
    await Bun.sleep(5);
    expect(cancelled).toBe(true);
    stream.fail("twice"); // harmless
  });

  test("ping(quietMs) only when nothing was sent for that long (injected clock)", async () => {
    let now = 1000;
    const stream = createAnthropicStream(context, { now: () => now });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    await reader.read(); // message_start at t=1000
    now = 1500;
    expect(stream.ping(1000)).toBe(false);
    now = 2000;
    expect(stream.ping(1000)).toBe(true);
    expect(text((await reader.read()).value!)).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    now = 2100;
    const pending = reader.read();
    await writer.write(bytes(sse([chunk({ content: "x" })], false)));
    await pending;
    now = 2600;
    expect(stream.ping(1000)).toBe(false); // output at 2100 counts as activity
    await writer.write(bytes(sse([chunk({}, "stop")])));
    expect(stream.ping()).toBe(false); // over
    await writer.close();
  });

  test("pingAfterMs: a quiet backend's stream gets pings on its own, and the answer still ends it", async () => {
    const stream = createAnthropicStream(context, { pingAfterMs: 20 });
    const writer = stream.writable.getWriter();
    const reader = stream.readable.getReader();
    await reader.read(); // message_start
    const quiet = await withTimeout(reader.read(), 1000, "a ping");
    expect(text(quiet.value!)).toBe('event: ping\ndata: {"type":"ping"}\n\n');
    void writer.write(bytes(sse([chunk({ content: "x" }), chunk({}, "stop")])));
    const rest: string[] = [];
    for (;;) {
      const { value, done } = await withTimeout(reader.read(), 1000, "the rest of the answer");
      if (done) break;
      rest.push(...events(text(value)).map((e) => e.event));
    }
    expect(rest.at(-1)).toBe("message_stop");
  });

  test("backpressure: the upstream is not read ahead of a client that does not read", async () => {
    let pulls = 0;
    const upstream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++;
          controller.enqueue(bytes(sse([chunk({ content: "t" })], false)));
        },
      },
      { highWaterMark: 0 },
    );
    const reader = upstream.pipeThrough(createAnthropicStream(context)).getReader();
    await reader.read(); // message_start
    await reader.read();
    await Bun.sleep(20);
    const before = pulls;
    expect(before).toBeLessThan(6);
    await Bun.sleep(20);
    expect(pulls).toBe(before);
    // One translated chunk waits queued; reading past it lets the upstream move again.
    await reader.read();
    await reader.read();
    expect(pulls).toBeGreaterThan(before);
    await reader.cancel();
  });
});
