// The event-level state machine: which Anthropic events each OpenAI chunk produces.
import { describe, expect, test } from "bun:test";
import {
  AnthropicResponseSchema,
  createStreamSteps,
  OpenAIChatSchema,
} from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";
import { chunk, context, trace, usageChunk } from "./fixtures.ts";

const eventSchema = checker(AnthropicResponseSchema.StreamEvent);
const chunkSchema = checker(OpenAIChatSchema.Chunk);
type Event = AnthropicResponseSchema.StreamEvent;

/** Runs chunks through fresh steps (then finish) and returns every event, schema-checked. */
function run(chunks: Record<string, unknown>[], ctx = context, finish = true): Event[] {
  const steps = createStreamSteps(ctx, "msg_01test");
  const out: Event[] = [...steps.start()];
  for (const c of chunks) {
    expect(chunkSchema.explain(c)).toBeUndefined();
    out.push(...steps.chunk(c as OpenAIChatSchema.Chunk));
  }
  if (finish) out.push(...steps.finish());
  for (const event of out) expect(eventSchema.explain(event)).toBeUndefined();
  return out;
}

const deltas = (events: Event[], index: number) =>
  events
    .filter((e) => e.type === "content_block_delta" && e.index === index)
    .map((e) => {
      const d = (e as { delta: Record<string, string> }).delta;
      return d.text ?? d.thinking ?? d.partial_json;
    });
const messageDelta = (events: Event[]) =>
  events.find((e) => e.type === "message_delta") as AnthropicResponseSchema.MessageDeltaEvent;

describe("stream steps", () => {
  test("a text answer: the exact event sequence", () => {
    const events = run([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo" }),
      chunk({}, "stop"),
      usageChunk(10, 2),
    ]);
    expect(events).toEqual([
      {
        type: "message_start",
        message: {
          id: "msg_01test",
          type: "message",
          role: "assistant",
          model: "claude-sonnet-5-5",
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
          },
        },
      },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "lo" } },
      { type: "content_block_stop", index: 0 },
      {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: {
          output_tokens: 2,
          input_tokens: 10,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      },
      { type: "message_stop" },
    ]);
  });

  test("each chunk's events come from that chunk (no look-ahead)", () => {
    const steps = createStreamSteps(context);
    expect(trace(steps.chunk(chunk({ content: "Hi" }) as OpenAIChatSchema.Chunk))).toEqual([
      "message_start",
      "block+0:text",
      "delta0:text_delta",
    ]);
    expect(trace(steps.chunk(chunk({ content: "!" }) as OpenAIChatSchema.Chunk))).toEqual([
      "delta0:text_delta",
    ]);
    expect(steps.start()).toEqual([]);
  });

  test("reasoning_content / reasoning → thinking block before the text", () => {
    const events = run([
      chunk({ role: "assistant", reasoning_content: "Step 1." }),
      chunk({ reasoning: " Step 2." }), // the other servers' field name
      chunk({ reasoning_content: "dup", reasoning: "ignored when both are sent" }),
      chunk({ content: "Answer" }),
      chunk({}, "stop"),
    ]);
    expect(trace(events)).toEqual([
      "message_start",
      "block+0:thinking",
      "delta0:thinking_delta",
      "delta0:thinking_delta",
      "delta0:thinking_delta",
      "stop0",
      "block+1:text",
      "delta1:text_delta",
      "stop1",
      "message_delta",
      "message_stop",
    ]);
    expect(events[1]).toEqual({
      type: "content_block_start",
      index: 0,
      content_block: { type: "thinking", thinking: "", signature: "" },
    });
    expect(deltas(events, 0)).toEqual(["Step 1.", " Step 2.", "dup"]);
  });

  test("<think> in content, tags split across chunks", () => {
    const events = run([
      chunk({ content: "<thi" }),
      chunk({ content: "nk>\nabc</th" }),
      chunk({ content: "ink>\n\nxyz" }),
      chunk({}, "stop"),
    ]);
    expect(trace(events)).toEqual([
      "message_start",
      "block+0:thinking",
      "delta0:thinking_delta",
      "stop0",
      "block+1:text",
      "delta1:text_delta",
      "stop1",
      "message_delta",
      "message_stop",
    ]);
    expect(deltas(events, 0)).toEqual(["abc"]);
    expect(deltas(events, 1)).toEqual(["xyz"]);
  });

  test("kinds alternating open a new block each time, indices in order", () => {
    const events = run([
      chunk({ reasoning_content: "a" }),
      chunk({ content: "b" }),
      chunk({ reasoning_content: "c" }),
      chunk({ content: "d" }),
      chunk({}, "stop"),
    ]);
    expect(trace(events).filter((t) => t.startsWith("block+") || t.startsWith("stop"))).toEqual([
      "block+0:thinking",
      "stop0",
      "block+1:text",
      "stop1",
      "block+2:thinking",
      "stop2",
      "block+3:text",
      "stop3",
    ]);
  });

  test("tool calls: arguments streamed as input_json_delta the moment they arrive", () => {
    const events = run([
      chunk({ content: "Checking." }),
      chunk({
        tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "read", arguments: "" } }],
      }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"pa' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'th":"a"}' } }] }),
      chunk({
        tool_calls: [
          { index: 1, id: "call_2", type: "function", function: { name: "list", arguments: "{}" } },
        ],
      }),
      chunk({}, "tool_calls"),
      usageChunk(5, 5),
    ]);
    expect(trace(events)).toEqual([
      "message_start",
      "block+0:text",
      "delta0:text_delta",
      "stop0",
      "block+1:tool_use",
      "delta1:input_json_delta",
      "delta1:input_json_delta",
      "stop1",
      "block+2:tool_use",
      "delta2:input_json_delta",
      "stop2",
      "message_delta",
      "message_stop",
    ]);
    expect(events[4]).toEqual({
      type: "content_block_start",
      index: 1,
      content_block: { type: "tool_use", id: "call_1", name: "read", input: {} },
    });
    expect(deltas(events, 1)).toEqual(['{"pa', 'th":"a"}']);
    expect(deltas(events, 2)).toEqual(["{}"]);
    expect(messageDelta(events).delta).toEqual({ stop_reason: "tool_use", stop_sequence: null });
  });

  test("argument fragments before the name are held and replayed when the block starts", () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: "f", arguments: ":1" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }),
      chunk({}, "tool_calls"),
    ]);
    expect(trace(events).slice(0, 4)).toEqual([
      "message_start",
      "block+0:tool_use",
      "delta0:input_json_delta",
      "delta0:input_json_delta",
    ]);
    expect(deltas(events, 0)).toEqual(['{"a":1', "}"]);
  });

  test("Ollama style: whole calls in one chunk, no index, arguments as an object; missing id generated", () => {
    const events = run([
      chunk({
        tool_calls: [
          { id: "call_x", function: { name: "a", arguments: { q: 1 } } },
          { function: { name: "b", arguments: "{}" } },
        ],
      }),
      chunk({}, "stop"), // "stop" although tools were called: still tool_use
    ]);
    const starts = events
      .filter((e) => e.type === "content_block_start")
      .map((e) => (e as { content_block: unknown }).content_block);
    expect(starts).toEqual([
      { type: "tool_use", id: "call_x", name: "a", input: {} },
      { type: "tool_use", id: expect.stringMatching(/^toolu_01/), name: "b", input: {} },
    ]);
    expect(deltas(events, 0)).toEqual(['{"q":1}']);
    expect(messageDelta(events).delta.stop_reason).toBe("tool_use");
  });

  test("a server interleaving parallel calls: late fragments still go to their own block index", () => {
    const events = run([
      chunk({ tool_calls: [{ index: 0, id: "c0", function: { name: "a", arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: "c1", function: { name: "b", arguments: '{"y":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "1}" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: "2}" } }] }),
      chunk({}, "tool_calls"),
    ]);
    expect(deltas(events, 0)).toEqual(['{"x":', "1}"]);
    expect(deltas(events, 1)).toEqual(['{"y":', "2}"]);
  });

  test("a call whose name never comes is dropped; whitespace before a call makes no text block", () => {
    const events = run([
      chunk({ content: "\n\n" }),
      chunk({ tool_calls: [{ index: 0, id: "c0", function: { name: "a", arguments: "{}" } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '{"lost":true}' } }] }),
      chunk({}, "tool_calls"),
    ]);
    expect(trace(events)).toEqual([
      "message_start",
      "block+0:tool_use",
      "delta0:input_json_delta",
      "stop0",
      "message_delta",
      "message_stop",
    ]);
  });

  test("no content at all: one empty text block; only the first choice counts", () => {
    const events = run([
      {
        id: "x",
        choices: [
          { index: 1, delta: { content: "other choice" }, finish_reason: null },
          { index: 0, delta: { role: "assistant" }, finish_reason: null },
        ],
      },
      chunk({}, "stop"),
    ]);
    expect(trace(events)).toEqual([
      "message_start",
      "block+0:text",
      "stop0",
      "message_delta",
      "message_stop",
    ]);
  });

  test.each([
    ["length", {}, "max_tokens", null],
    ["stop", { stop_reason: "###" }, "stop_sequence", "###"],
    ["stop", { matched_stop: "###" }, "stop_sequence", "###"],
    ["stop", { stop_reason: null }, "end_turn", null],
    ["content_filter", {}, "refusal", null],
  ])("finish_reason %s %j → %s", (finish, extra, reason, sequence) => {
    const events = run([chunk({ content: "x" }), chunk({}, finish, extra)], {
      ...context,
      stopSequences: ["###"],
    });
    expect(messageDelta(events).delta).toEqual({ stop_reason: reason as never, stop_sequence: sequence });
  });

  test("usage: input estimate in message_start, backend totals in message_delta, estimate when absent", () => {
    const ctx = { ...context, inputTokens: 123 };
    const withUsage = run([chunk({ content: "x" }), chunk({}, "stop", {}), usageChunk(2000, 7, 1500)], ctx);
    expect((withUsage[0] as { message: { usage: unknown } }).message.usage).toMatchObject({
      input_tokens: 123,
    });
    expect(messageDelta(withUsage).usage).toEqual({
      output_tokens: 7,
      input_tokens: 500,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 1500,
    });
    // llama.cpp puts usage on the finish chunk itself.
    const sameChunk = run([chunk({ content: "x" }, "stop", {}), { ...usageChunk(9, 1), choices: [] }], ctx);
    expect(messageDelta(sameChunk).usage.output_tokens).toBe(1);
    const without = run(
      [chunk({ reasoning_content: "1234" }), chunk({ content: "12345" }), chunk({}, "stop")],
      ctx,
    );
    expect(messageDelta(without).usage).toMatchObject({ output_tokens: 3, input_tokens: 123 }); // ceil(9 / 4)
  });

  test("fail: one error event, nothing after it; finish after fail and fail after finish do nothing", () => {
    const steps = createStreamSteps(context);
    steps.chunk(chunk({ content: "x" }) as OpenAIChatSchema.Chunk);
    expect(steps.fail("backend died")).toEqual([
      { type: "error", error: { type: "api_error", message: "backend died" } },
    ]);
    expect(steps.phase).toBe("failed");
    expect(steps.fail("again")).toEqual([]);
    expect(steps.finish()).toEqual([]);
    expect(steps.chunk(chunk({ content: "late" }) as OpenAIChatSchema.Chunk)).toEqual([]);

    const done = createStreamSteps(context);
    done.finish();
    expect(done.phase).toBe("finished");
    expect(done.fail("x")).toEqual([]);
  });

  test("fail before anything was sent still starts the message first", () => {
    expect(trace(createStreamSteps(context).fail("no answer", "overloaded_error"))).toEqual([
      "message_start",
      "error",
    ]);
  });
});
