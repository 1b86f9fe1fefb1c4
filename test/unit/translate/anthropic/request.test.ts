import { describe, expect, test } from "bun:test";
import {
  AnthropicApiError,
  clashingLimitations,
  OpenAIChatSchema,
  parseJson,
  parseMessagesRequest,
  translateRequest,
} from "../../../../src/translate/index.ts";
import { checker } from "../../../../src/translate/anthropic/validate.ts";

const chatRequest = checker(OpenAIChatSchema.ChatRequest);

const base = { model: "claude-sonnet-5-5", max_tokens: 256 };
const user = (content: unknown) => ({ ...base, messages: [{ role: "user", content }] });

/** Translates and checks the result against the OpenAI request schema. */
function translate(body: unknown, options = {}) {
  const out = translateRequest(body, options);
  expect(chatRequest.explain(out.openai)).toBeUndefined();
  return out;
}

function rejection(body: unknown): AnthropicApiError {
  try {
    translateRequest(body);
  } catch (error) {
    expect(error).toBeInstanceOf(AnthropicApiError);
    return error as AnthropicApiError;
  }
  throw new Error("expected a rejection");
}

describe("request translation", () => {
  test("minimal request: model, max_tokens, stream false, user string", () => {
    const { openai, context, notes } = translate(user("Hello"));
    expect(openai).toEqual({
      model: "claude-sonnet-5-5",
      messages: [{ role: "user", content: "Hello" }],
      max_tokens: 256,
      stream: false,
    });
    expect(context).toEqual({ model: "claude-sonnet-5-5", stopSequences: [] });
    expect(notes).toEqual([]);
  });

  test("backend model name from options; the context keeps the client's", () => {
    const { openai, context } = translate(user("x"), { model: "qwen3:8b" });
    expect(openai.model).toBe("qwen3:8b");
    expect(context.model).toBe("claude-sonnet-5-5");
  });

  test("system as a string and as text blocks", () => {
    expect(translate({ ...user("x"), system: "Be terse." }).openai.messages[0]).toEqual({
      role: "system",
      content: "Be terse.",
    });
    const blocks = translate({
      ...user("x"),
      system: [
        { type: "text", text: "You are Claude Code.", cache_control: { type: "ephemeral" } },
        { type: "text", text: "Use tools." },
      ],
    });
    expect(blocks.openai.messages[0]).toEqual({
      role: "system",
      content: "You are Claude Code.\nUse tools.",
    });
    expect(translate({ ...user("x"), system: "" }).openai.messages[0]?.role).toBe("user");
  });

  test("sampling, stop sequences, user id, streaming with usage", () => {
    const { openai, context } = translate({
      ...user("x"),
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop_sequences: ["###", "END"],
      metadata: { user_id: "user-42" },
      stream: true,
    });
    expect(openai).toMatchObject({
      temperature: 0.2,
      top_p: 0.9,
      top_k: 40,
      stop: ["###", "END"],
      user: "user-42",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(context.stopSequences).toEqual(["###", "END"]);
    const plain = translate({ ...user("x"), stop_sequences: [], metadata: { user_id: null } }).openai;
    expect("stop" in plain || "user" in plain || "stream_options" in plain).toBe(false);
  });

  test("user text blocks join with a newline; images become image_url parts (base64 and URL)", () => {
    expect(
      translate(
        user([
          { type: "text", text: "<system-reminder>ctx</system-reminder>" },
          { type: "text", text: "Fix the bug." },
        ]),
      ).openai.messages,
    ).toEqual([{ role: "user", content: "<system-reminder>ctx</system-reminder>\nFix the bug." }]);

    const { openai } = translate(
      user([
        { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
        { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        { type: "text", text: "What are these?" },
      ]),
    );
    expect(openai.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          { type: "text", text: "What are these?" },
        ],
      },
    ]);
  });

  test("documents: text and content sources as text, a base64 PDF as a file part", () => {
    const { openai } = translate(
      user([
        {
          type: "document",
          source: { type: "text", media_type: "text/plain", data: "Body" },
          title: "Notes",
        },
        {
          type: "document",
          source: {
            type: "content",
            content: [
              { type: "text", text: "A" },
              { type: "text", text: "B" },
            ],
          },
        },
        { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" } },
      ]),
    );
    expect(openai.messages[0]).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Notes\n\nBody" },
        { type: "text", text: "A\nB" },
        {
          type: "file",
          file: { filename: "document.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
        },
      ],
    });
    const url = rejection(user([{ type: "document", source: { type: "url", url: "https://x/y.pdf" } }]));
    expect(url.message).toBe(
      "messages.0.content.0.source: URL documents cannot be translated; send the PDF as base64",
    );
  });

  test("tools, tool_choice and parallel calls", () => {
    const tools = [
      {
        name: "get_weather",
        description: "Weather",
        input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        cache_control: { type: "ephemeral" },
      },
      { type: "custom", name: "noop", input_schema: { type: "object" } },
    ];
    const { openai } = translate({ ...user("x"), tools });
    expect(openai.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather",
          parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
        },
      },
      { type: "function", function: { name: "noop", parameters: { type: "object" } } },
    ]);
    expect(openai.tool_choice).toBeUndefined();

    const choice = (tool_choice: unknown) => translate({ ...user("x"), tools, tool_choice }).openai;
    expect(choice({ type: "auto" }).tool_choice).toBe("auto");
    expect(choice({ type: "any" }).tool_choice).toBe("required");
    expect(choice({ type: "none" }).tool_choice).toBe("none");
    expect(choice({ type: "tool", name: "get_weather" }).tool_choice).toEqual({
      type: "function",
      function: { name: "get_weather" },
    });
    expect(choice({ type: "auto", disable_parallel_tool_use: true }).parallel_tool_calls).toBe(false);
    expect(choice({ type: "auto" }).parallel_tool_calls).toBeUndefined();

    const without = translate({ ...user("x"), tool_choice: { type: "any" } });
    expect(without.openai.tool_choice).toBeUndefined();
    expect(without.notes).toEqual(["tool_choice: ignored without tools"]);
  });

  test("a tool-use round trip: assistant tool_use → tool_calls, tool_result → tool messages first", () => {
    const { openai, notes } = translate({
      ...base,
      messages: [
        { role: "user", content: "Weather in Paris and Oslo?" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "Two calls.", signature: "sig" },
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } },
            { type: "tool_use", id: "toolu_2", name: "get_weather", input: { city: "Oslo" } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "18°C" },
            {
              type: "tool_result",
              tool_use_id: "toolu_2",
              content: [
                { type: "text", text: "failed:" },
                { type: "text", text: "timeout" },
              ],
              is_error: true,
            },
            { type: "text", text: "Summarise." },
          ],
        },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_3", name: "noop", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_3" }] },
      ],
    });
    expect(openai.messages).toEqual([
      { role: "user", content: "Weather in Paris and Oslo?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [
          {
            id: "toolu_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
          },
          {
            id: "toolu_2",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
          },
        ],
      },
      { role: "tool", tool_call_id: "toolu_1", content: "18°C" },
      { role: "tool", tool_call_id: "toolu_2", content: "Error: failed:\ntimeout" },
      { role: "user", content: "Summarise." },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "toolu_3", type: "function", function: { name: "noop", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "toolu_3", content: "" },
    ]);
    expect(notes).toEqual(["messages.1.content.0: thinking block dropped"]);
  });

  test("images inside a tool_result move to the user message after the tool messages", () => {
    const { openai, notes } = translate(
      user([
        {
          type: "tool_result",
          tool_use_id: "toolu_1",
          content: [
            { type: "text", text: "screenshot:" },
            { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAAA" } },
          ],
        },
      ]),
    );
    expect(openai.messages).toEqual([
      { role: "tool", tool_call_id: "toolu_1", content: "screenshot:" },
      { role: "user", content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } }] },
    ]);
    expect(notes).toEqual(["messages.0.content.0: tool_result image moved to the following user message"]);
  });

  test("assistant string content and a prefill pass through; thinking config leaves a note", () => {
    const { openai, notes } = translate({
      ...base,
      thinking: { type: "enabled", budget_tokens: 2048 },
      messages: [
        { role: "user", content: "Answer in JSON" },
        { role: "assistant", content: "{" },
      ],
    });
    expect(openai.messages[1]).toEqual({ role: "assistant", content: "{" });
    expect(notes).toHaveLength(1);
    expect(notes[0]).toStartWith("thinking: enabled is not forwarded");
  });
});

describe("validation: 400 invalid_request_error naming the field", () => {
  test.each([
    [{ max_tokens: 10, messages: [{ role: "user", content: "x" }] }, "model: Field required"],
    [{ model: "m", messages: [{ role: "user", content: "x" }] }, "max_tokens: Field required"],
    [
      { ...base, max_tokens: 0, messages: [{ role: "user", content: "x" }] },
      "max_tokens: Expected integer to be greater or equal to 1",
    ],
    [
      { ...base, max_tokens: 1.5, messages: [{ role: "user", content: "x" }] },
      "max_tokens: Expected integer",
    ],
    [{ ...base, messages: [] }, "messages: Expected array length to be greater or equal to 1"],
    [
      { ...base, messages: [{ role: "system", content: "x" }] },
      'messages.0.role: must be one of "user", "assistant"',
    ],
    [{ ...base, messages: [{ role: "user" }] }, "messages.0.content: Field required"],
    [{ ...base, messages: [{ role: "user", content: 42 }] }, "messages.0.content: expected string or array"],
    [user([{ text: "no type" }]), "messages.0.content.0.type: Field required"],
    [
      user([{ type: "server_tool_use", id: "x" }]),
      'messages.0.content.0.type: unsupported type "server_tool_use" (expected one of text, image, document, tool_use, tool_result, thinking, redacted_thinking)',
    ],
    [user([{ type: "text" }]), "messages.0.content.0.text: Field required"],
    [
      user([
        { type: "text", text: "ok" },
        { type: "image", source: { type: "base64", media_type: "image/bmp", data: "x" } },
      ]),
      'messages.0.content.1.source.media_type: must be one of "image/jpeg", "image/png", "image/gif", "image/webp"',
    ],
    [
      user([{ type: "image", source: { type: "file", file_id: "file_1" } }]),
      'messages.0.content.0.source.type: unsupported type "file" (expected one of base64, url)',
    ],
    [
      user([{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: 1 }] }]),
      "messages.0.content.0.content.0.text: Expected string",
    ],
    [{ ...user("x"), temperature: 3 }, "temperature: Expected number to be less or equal to 2"],
    [{ ...user("x"), top_p: -0.1 }, "top_p: Expected number to be greater or equal to 0"],
    [{ ...user("x"), top_k: -1 }, "top_k: Expected integer to be greater or equal to 0"],
    [{ ...user("x"), stop_sequences: "END" }, "stop_sequences: Expected array"],
    [{ ...user("x"), system: [{ type: "text", text: 5 }] }, "system.0.text: Expected string"],
    [{ ...user("x"), tool_choice: { type: "tool" } }, "tool_choice.name: Field required"],
    [{ ...user("x"), thinking: { type: "enabled" } }, "thinking.budget_tokens: Field required"],
    [
      { ...user("x"), tools: [{ type: "web_search_20250305", name: "web_search", max_uses: 5 }] },
      "tools.0.input_schema: Field required (client tools need an input_schema; Anthropic server tools cannot run on a local model)",
    ],
    ["just a string", "body: Expected object"],
  ])("%#: %j", (body, message) => {
    const error = rejection(body);
    expect(error.status).toBe(400);
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toBe(message);
  });

  test("blocks in the wrong role", () => {
    expect(rejection(user([{ type: "tool_use", id: "t", name: "n", input: {} }])).message).toBe(
      "messages.0.content.0: tool_use blocks belong in assistant messages",
    );
    expect(
      rejection({
        ...base,
        messages: [{ role: "assistant", content: [{ type: "tool_result", tool_use_id: "t", content: "x" }] }],
      }).message,
    ).toBe("messages.0.content.0: tool_result blocks belong in user messages");
  });

  test("unknown fields are accepted (new client fields must not break requests)", () => {
    const body = { ...user("x"), service_tier: "auto", container: null, context_management: {} };
    expect(parseMessagesRequest(body)).toBe(body as never);
  });

  test("parseJson: 400 on bytes that are not JSON", () => {
    expect(parseJson(new TextEncoder().encode('{"a":1}'))).toEqual({ a: 1 });
    try {
      parseJson("{nope");
      throw new Error("expected a rejection");
    } catch (error) {
      expect(error).toBeInstanceOf(AnthropicApiError);
      expect((error as AnthropicApiError).status).toBe(400);
      expect((error as AnthropicApiError).message).toStartWith("body: invalid JSON");
    }
  });

  test("parseJson: 400 past 512 levels of nesting, counted without recursion", () => {
    const nested = (depth: number) => `${'{"a":['.repeat(depth)}1${"]}".repeat(depth)}`;
    // Each repeat is two levels: an object and an array.
    expect(() => parseJson(nested(256))).not.toThrow();
    expect(() => parseJson(nested(257))).toThrow("body: JSON nested more than 512 levels deep");
    // Far deeper than the stack allows recursion to go.
    expect(() => parseJson(nested(1_000_000))).toThrow(AnthropicApiError);
  });
});

describe("clashingLimitations (passthrough eligibility)", () => {
  test("tools, thinking and images anywhere", () => {
    const request = (extra: object) => parseMessagesRequest({ ...user("x"), ...extra });
    expect(clashingLimitations(request({}))).toEqual([]);
    expect(clashingLimitations(request({ tools: [] }))).toEqual([]);
    expect(
      clashingLimitations(request({ tools: [{ name: "t", input_schema: { type: "object" } }] })),
    ).toEqual(["no_tool_use"]);
    expect(clashingLimitations(request({ thinking: { type: "enabled", budget_tokens: 1024 } }))).toEqual([
      "no_extended_thinking",
    ]);
    expect(clashingLimitations(request({ thinking: { type: "disabled" } }))).toEqual([]);
    const image = { type: "image", source: { type: "url", url: "https://x/y.png" } };
    expect(clashingLimitations(parseMessagesRequest(user([image])))).toEqual(["no_vision"]);
    expect(
      clashingLimitations(
        parseMessagesRequest(user([{ type: "tool_result", tool_use_id: "t", content: [image] }])),
      ),
    ).toEqual(["no_vision"]);
  });
});
