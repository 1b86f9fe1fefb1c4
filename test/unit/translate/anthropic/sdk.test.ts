// The translation read by the official @anthropic-ai/sdk, in process: the client's fetch is a function
// that translates its request, answers as a given OpenAI backend would, and translates the answer back.
import { describe, expect, test } from "bun:test";
import { Anthropic, APIError, BadRequestError } from "@anthropic-ai/sdk";
import {
  anthropicErrorResponse,
  anthropicModelList,
  AnthropicApiError,
  countTokensBody,
  createAnthropicStream,
  estimateInputTokens,
  parseCountTokensRequest,
  STREAM_HEADERS,
  translateRequest,
  translateResponse,
  type OpenAIChatSchema,
} from "../../../../src/translate/index.ts";
import { bytes, chunk, sse, streamOf, usageChunk } from "./fixtures.ts";

type ChatRequestLike = OpenAIChatSchema.ChatRequest;
/** What the backend answers; `ping` puts a keep-alive ping right after message_start. */
type Backend = (request: ChatRequestLike) => {
  json?: unknown;
  pieces?: string[];
  fail?: Error;
  ping?: boolean;
};

/** An Anthropic client whose requests olla's translation serves from `backend`. */
function client(backend: Backend, seen: ChatRequestLike[] = []): Anthropic {
  const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const requestId = "req_test_1";
    try {
      if (url.pathname.endsWith("/v1/models")) {
        return Response.json(anthropicModelList(["qwen3:8b", "llama3.2:3b"], new Date(0)));
      }
      const body = JSON.parse(String(init?.body));
      if (url.pathname.endsWith("/count_tokens")) {
        return Response.json(countTokensBody(estimateInputTokens(parseCountTokensRequest(body))));
      }
      const { openai, context } = translateRequest(body, { model: "qwen3:8b" });
      seen.push(openai);
      const answer = backend(openai);
      if (!openai.stream) return Response.json(translateResponse(answer.json, context));
      const stream = createAnthropicStream(context, { messageId: "msg_01stream" });
      if (answer.ping) expect(stream.ping()).toBe(true);
      const upstream = streamOf((answer.pieces ?? []).map(bytes), answer.fail);
      return new Response(upstream.pipeThrough(stream), { headers: STREAM_HEADERS });
    } catch (error) {
      if (!(error instanceof AnthropicApiError)) throw error;
      return anthropicErrorResponse(error.status, error.message, { requestId });
    }
  };
  return new Anthropic({
    apiKey: "unused",
    baseURL: "http://olla.test/olla/anthropic",
    fetch,
    maxRetries: 0,
  });
}

const tools = [
  {
    name: "get_weather",
    description: "Weather for a city",
    input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
  },
  { name: "get_time", input_schema: { type: "object" as const, properties: { tz: { type: "string" } } } },
];

describe("streaming, read by MessageStream", () => {
  test("reasoning, text and two streamed tool calls accumulate into the final message", async () => {
    const seen: ChatRequestLike[] = [];
    const anthropic = client(
      () => ({
        pieces: [
          sse(
            [chunk({ role: "assistant", content: "" }), chunk({ reasoning_content: "The user wants " })],
            false,
          ),
          sse(
            [chunk({ reasoning_content: "weather and time." }), chunk({ content: "Let me check." })],
            false,
          ),
          sse(
            [
              chunk({
                tool_calls: [
                  {
                    index: 0,
                    id: "call_a",
                    type: "function",
                    function: { name: "get_weather", arguments: "" },
                  },
                ],
              }),
              chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
            ],
            false,
          ),
          // A frame split mid-JSON across reads.
          'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ty\\": \\"Paris\\"}"}}]},',
          '"finish_reason":null}]}\r\n\r\n',
          sse(
            [
              chunk({
                tool_calls: [
                  {
                    index: 1,
                    id: "call_b",
                    type: "function",
                    function: { name: "get_time", arguments: '{"tz":' },
                  },
                ],
              }),
              chunk({ tool_calls: [{ index: 1, function: { arguments: '"Europe/Paris"}' } }] }),
              chunk({}, "tool_calls"),
              usageChunk(321, 45, 300),
            ],
            true,
          ),
        ],
      }),
      seen,
    );
    const texts: string[] = [];
    const jsonDeltas: string[] = [];
    const thinking: string[] = [];
    const stream = anthropic.messages
      .stream({
        model: "claude-sonnet-5-5",
        max_tokens: 1024,
        messages: [{ role: "user", content: "Weather and time in Paris?" }],
        tools,
      })
      .on("text", (delta) => texts.push(delta))
      .on("inputJson", (delta) => jsonDeltas.push(delta))
      .on("thinking", (delta) => thinking.push(delta));
    const message = await stream.finalMessage();

    expect(seen[0]).toMatchObject({
      model: "qwen3:8b",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(message.id).toBe("msg_01stream");
    expect(message.model).toBe("claude-sonnet-5-5");
    expect(message.content).toEqual([
      { type: "thinking", thinking: "The user wants weather and time.", signature: "" },
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "call_a", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_b", name: "get_time", input: { tz: "Europe/Paris" } },
    ] as unknown as typeof message.content);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.stop_sequence).toBeNull();
    expect(message.usage).toMatchObject({
      input_tokens: 21,
      cache_read_input_tokens: 300,
      output_tokens: 45,
    });
    expect(texts).toEqual(["Let me check."]);
    expect(thinking).toEqual(["The user wants ", "weather and time."]);
    expect(jsonDeltas).toEqual(['{"ci', 'ty": "Paris"}', '{"tz":', '"Europe/Paris"}']);
  });

  test("<think> tags split across chunks become a thinking block; stop sequence is reported", async () => {
    const anthropic = client(() => ({
      pieces: [
        sse(
          [
            chunk({ role: "assistant", content: "<th" }),
            chunk({ content: "ink>\nPlanning" }),
            chunk({ content: " the answer.</thi" }),
            chunk({ content: "nk>\n\nOne, two" }),
            chunk({ content: ", three" }),
            chunk({}, "stop", { stop_reason: "FOUR" }),
            usageChunk(12, 9),
          ],
          true,
        ),
      ],
    }));
    const message = await anthropic.messages
      .stream({
        model: "claude-haiku-4-5",
        max_tokens: 100,
        stop_sequences: ["FOUR"],
        messages: [{ role: "user", content: "Count" }],
      })
      .finalMessage();
    expect(message.content).toEqual([
      { type: "thinking", thinking: "Planning the answer.", signature: "" },
      { type: "text", text: "One, two, three" },
    ] as unknown as typeof message.content);
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe("FOUR");
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 9 });
  });

  test("iterating raw events: exact sequence, pings skipped by the SDK", async () => {
    const seenTypes: string[] = [];
    const anthropic = client(() => ({
      pieces: [sse([chunk({ content: "Hi" }), chunk({}, "length")], true)],
      ping: true,
    }));
    const stream = await anthropic.messages.create({
      model: "m",
      max_tokens: 1,
      stream: true,
      messages: [{ role: "user", content: "x" }],
    });
    for await (const event of stream) seenTypes.push(event.type);
    expect(seenTypes).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
  });

  test("an upstream failure mid-stream reaches the SDK as an api_error", async () => {
    const anthropic = client(() => ({
      pieces: [sse([chunk({ content: "Partial" })], false)],
      fail: new Error("upstream socket closed"),
    }));
    const stream = anthropic.messages.stream({
      model: "m",
      max_tokens: 10,
      messages: [{ role: "user", content: "x" }],
    });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toEqual({
      type: "error",
      error: { type: "api_error", message: "upstream socket closed" },
    });
  });

  test("a stream cut without finish_reason or [DONE] is an error, not a complete answer", async () => {
    const anthropic = client(() => ({ pieces: [sse([chunk({ content: "Half an ans" })], false)] }));
    const error = await anthropic.messages
      .stream({ model: "m", max_tokens: 10, messages: [{ role: "user", content: "x" }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect((error as APIError).error).toMatchObject({ error: { type: "api_error" } });
  });
});

describe("non-streaming and the other routes", () => {
  test("messages.create: a completion with reasoning and a tool call", async () => {
    const seen: ChatRequestLike[] = [];
    const anthropic = client(
      () => ({
        json: {
          id: "chatcmpl-9",
          object: "chat.completion",
          model: "qwen3:8b",
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: "I'll look it up.",
                reasoning: "Need the weather tool.",
                tool_calls: [
                  {
                    id: "call_w",
                    type: "function",
                    function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
                  },
                ],
              },
              finish_reason: "tool_calls",
            },
          ],
          usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
        },
      }),
      seen,
    );
    const message = await anthropic.messages.create({
      model: "claude-opus-4-1",
      max_tokens: 200,
      system: [{ type: "text", text: "Be brief." }],
      messages: [{ role: "user", content: [{ type: "text", text: "Weather in Oslo?" }] }],
      tools,
      tool_choice: { type: "any" },
    });
    expect(seen[0]?.tool_choice).toBe("required");
    expect(seen[0]?.messages[0]).toEqual({ role: "system", content: "Be brief." });
    expect(message.type).toBe("message");
    expect(message.model).toBe("claude-opus-4-1");
    expect(message.id).toMatch(/^msg_01[0-9A-Za-z]{22}$/);
    expect(message.content).toEqual([
      { type: "thinking", thinking: "Need the weather tool.", signature: "" },
      { type: "text", text: "I'll look it up." },
      { type: "tool_use", id: "call_w", name: "get_weather", input: { city: "Oslo" } },
    ] as unknown as typeof message.content);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 50, output_tokens: 20 });
  });

  test("an invalid request is a BadRequestError with Anthropic's error type and the request id", async () => {
    const anthropic = client(() => ({}));
    const error = await anthropic.messages
      .create({ model: "m", max_tokens: 0, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    const bad = error as BadRequestError;
    expect(bad.status).toBe(400);
    expect(bad.requestID).toBe("req_test_1");
    expect(bad.error).toMatchObject({
      type: "error",
      error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") },
    });
  });

  test("models.list reads the Anthropic list format", async () => {
    const page = await client(() => ({})).models.list();
    expect(page.data.map((m) => m.id)).toEqual(["qwen3:8b", "llama3.2:3b"]);
    expect(page.data[0]).toMatchObject({
      type: "model",
      display_name: "qwen3:8b",
      created_at: "1970-01-01T00:00:00Z",
    });
    expect(page.has_more).toBe(false);
  });

  test("messages.countTokens reads the estimate", async () => {
    const result = await client(() => ({})).messages.countTokens({
      model: "m",
      messages: [{ role: "user", content: "12345678" }],
    });
    expect(result.input_tokens).toBe(2);
  });
});
