import { describe, expect, test } from "bun:test";
import {
  AnthropicApiError,
  AnthropicResponseSchema,
  toolInput,
  translateResponse,
} from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";

const messageSchema = checker(AnthropicResponseSchema.Message);
const context = { model: "claude-sonnet-5-5", stopSequences: ["END"] };

function completion(message: Record<string, unknown>, finish: string | null = "stop", extra: object = {}) {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    created: 1,
    model: "qwen3:8b",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish, ...extra }],
    usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
  };
}

function translate(
  body: unknown,
  ctx: typeof context & { inputTokens?: number } = context,
  notes: string[] = [],
) {
  const message = translateResponse(body, ctx, notes);
  expect(messageSchema.explain(message)).toBeUndefined();
  return message;
}

describe("response translation", () => {
  test("plain text: message envelope, model from the request, usage", () => {
    const message = translate(completion({ content: "Hello there." }));
    expect(message).toEqual({
      id: expect.stringMatching(/^msg_01[0-9A-Za-z]{22}$/),
      type: "message",
      role: "assistant",
      model: "claude-sonnet-5-5",
      content: [{ type: "text", text: "Hello there." }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        output_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });

  test.each([
    ["stop", {}, "end_turn", null],
    ["stop", { stop_reason: "END" }, "stop_sequence", "END"], // vLLM names the matched stop string
    ["stop", { matched_stop: "END" }, "stop_sequence", "END"], // SGLang
    ["stop", { stop_reason: 151645 }, "end_turn", null], // a stop token id: the model ended its turn
    ["stop", { stop_reason: "<|im_end|>" }, "end_turn", null], // not one of the client's sequences
    ["length", {}, "max_tokens", null],
    ["tool_calls", {}, "tool_use", null],
    ["function_call", {}, "tool_use", null],
    ["content_filter", {}, "refusal", null],
    [null, {}, "end_turn", null],
    ["eos", {}, "end_turn", null],
  ])("finish_reason %p %j → %s", (finish, extra, stopReason, stopSequence) => {
    const message = translate(completion({ content: "x" }, finish, extra));
    expect(message.stop_reason).toBe(stopReason as never);
    expect(message.stop_sequence).toBe(stopSequence);
  });

  test("tool calls → tool_use blocks after the text; whitespace-only text before them is dropped", () => {
    const message = translate(
      completion(
        {
          content: "\n\n",
          tool_calls: [
            { id: "call_1", type: "function", function: { name: "read", arguments: '{"path":"a.ts"}' } },
            { type: "function", function: { name: "list", arguments: "" } },
          ],
        },
        // Some servers say "stop" even when the model called tools: the client must still run them.
        "stop",
      ),
    );
    expect(message.content).toEqual([
      { type: "tool_use", id: "call_1", name: "read", input: { path: "a.ts" } },
      { type: "tool_use", id: expect.stringMatching(/^toolu_01/), name: "list", input: {} },
    ]);
    expect(message.stop_reason).toBe("tool_use");
  });

  test("legacy function_call becomes a tool_use", () => {
    const message = translate(
      completion({ content: null, function_call: { name: "f", arguments: '{"a":1}' } }, "function_call"),
    );
    expect(message.content).toEqual([
      { type: "tool_use", id: expect.any(String), name: "f", input: { a: 1 } },
    ]);
  });

  test("reasoning fields and <think> tags become thinking blocks before the text", () => {
    expect(translate(completion({ content: "42", reasoning_content: "Compute." })).content).toEqual([
      { type: "thinking", thinking: "Compute.", signature: "" },
      { type: "text", text: "42" },
    ]);
    expect(translate(completion({ content: "42", reasoning: "Ollama/vLLM field." })).content[0]).toEqual({
      type: "thinking",
      thinking: "Ollama/vLLM field.",
      signature: "",
    });
    expect(
      translate(completion({ content: "\n<think>\nHmm.\n</think>\n\nThe answer is 42." })).content,
    ).toEqual([
      { type: "thinking", thinking: "Hmm.\n", signature: "" },
      { type: "text", text: "The answer is 42." },
    ]);
    // Ran out of tokens while thinking: all thinking, no text block.
    expect(translate(completion({ content: "<think>Still going" }, "length")).content).toEqual([
      { type: "thinking", thinking: "Still going", signature: "" },
    ]);
  });

  test("content as text parts; empty content is one empty text block", () => {
    expect(
      translate(
        completion({
          content: [
            { type: "text", text: "a" },
            { type: "text", text: "b" },
          ],
        }),
      ).content,
    ).toEqual([{ type: "text", text: "ab" }]);
    expect(translate(completion({ content: null })).content).toEqual([{ type: "text", text: "" }]);
    expect(translate(completion({ content: "" })).content).toEqual([{ type: "text", text: "" }]);
  });

  test("usage: cached prompt tokens are cache reads; missing usage falls back to estimates", () => {
    const cached = completion({ content: "x" });
    cached.usage = {
      prompt_tokens: 1000,
      completion_tokens: 5,
      total_tokens: 1005,
      prompt_tokens_details: { cached_tokens: 900 },
    } as never;
    expect(translate(cached).usage).toEqual({
      input_tokens: 100,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 900,
    });
    const bare = completion({ content: "12345678" });
    delete (bare as { usage?: unknown }).usage;
    expect(translate(bare, { ...context, inputTokens: 77 }).usage).toMatchObject({
      input_tokens: 77,
      output_tokens: 2,
    });
  });

  test("not a completion: 502 api_error; an error object inside a 200 keeps its message", () => {
    const attempt = (body: unknown) => {
      try {
        translateResponse(body, context);
      } catch (error) {
        return error as AnthropicApiError;
      }
      throw new Error("expected a rejection");
    };
    expect(attempt({ choices: "nope" })).toMatchObject({ status: 502, type: "api_error" });
    expect(attempt({ choices: "nope" }).message).toBe(
      "backend answer is not a chat completion: choices: Expected array",
    );
    expect(attempt({ choices: [] }).message).toBe("backend answer is not a chat completion: no choices");
    expect(attempt({ error: { message: "model crashed", type: "server_error" } })).toMatchObject({
      status: 502,
      message: "model crashed",
    });
  });
});

describe("toolInput: tool arguments → input object", () => {
  test.each([
    ['{"a":1}', { a: 1 }],
    ["", {}],
    ["   ", {}],
    [undefined, {}],
    [null, {}],
    [{ already: "object" }, { already: "object" }],
    ['"{\\"double\\":true}"', { double: true }],
  ])("%j → %j", (args, input) => {
    const notes: string[] = [];
    expect(toolInput(args, "tool_calls.0", notes)).toEqual(input);
    expect(notes).toEqual([]);
  });

  test.each([['{"a":'], ["[1,2]"], ["42"], [7]])("%j → {} with a note", (args) => {
    const notes: string[] = [];
    expect(toolInput(args, "tool_calls.0", notes)).toEqual({});
    expect(notes).toHaveLength(1);
    expect(notes[0]).toStartWith("tool_calls.0: arguments are");
  });

  test("translateResponse passes the repair notes on", () => {
    const notes: string[] = [];
    translate(
      completion({
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{oops" } }],
      }),
      context,
      notes,
    );
    expect(notes).toEqual(["tool_calls.0: arguments are not valid JSON; input set to {} (raw: {oops)"]);
  });
});
