// The Anthropic Messages API through olla, driven by the official @anthropic-ai/sdk: translation to an
// OpenAI-style endpoint (text, system, turns, tools, images, thinking, stop reasons, usage, errors, a
// cut stream, client abort) and passthrough to an endpoint that speaks Anthropic natively.

import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FakeUpstream, readSse, replyTokens, startFakeUpstream } from "../support/index.ts";
import { anthropicClient, postJson } from "../support/anthropic-client.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

/** An OpenAI-compatible server that answers with a scripted stream: reasoning, then text that stops
 * on a stop sequence (vLLM reports which), then a usage chunk. Keeps the bodies it received. */
function startScriptedServer() {
  const received: Record<string, unknown>[] = [];
  const frame = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra = {}) =>
    frame({
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      model: "thinker",
      choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
    });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/v1/models")
        return Response.json({ object: "list", data: [{ id: "thinker", object: "model" }] });
      if (path !== "/v1/chat/completions") return new Response("not found", { status: 404 });
      const body = (await request.json()) as Record<string, unknown>;
      received.push(body);
      if (body.stream !== true) {
        return Response.json({
          id: "chatcmpl-1",
          object: "chat.completion",
          model: "thinker",
          choices: [
            {
              index: 0,
              message: { role: "assistant", reasoning_content: "Let me think.", content: "Forty-two" },
              finish_reason: "stop",
              stop_reason: "END",
            },
          ],
          usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 },
        });
      }
      const frames = [
        chunk({ role: "assistant", content: "" }),
        chunk({ reasoning_content: "Let me " }),
        chunk({ reasoning_content: "think." }),
        chunk({ content: "Forty" }),
        chunk({ content: "-two" }),
        chunk({}, "stop", { stop_reason: "END" }),
        frame({
          id: "chatcmpl-1",
          object: "chat.completion.chunk",
          model: "thinker",
          choices: [],
          usage: { prompt_tokens: 11, completion_tokens: 5 },
        }),
        "data: [DONE]\n\n",
      ];
      return new Response(
        new ReadableStream({
          async pull(controller) {
            const next = frames.shift();
            if (next === undefined) return controller.close();
            await Bun.sleep(2);
            controller.enqueue(new TextEncoder().encode(next));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, received, stop: () => server.stop(true) };
}

let translated: FakeUpstream;
let native: FakeUpstream;
let scripted: ReturnType<typeof startScriptedServer>;
let olla: TestOlla;
let client: Anthropic;

beforeAll(async () => {
  translated = await startFakeUpstream({
    kind: "sglang",
    chunks: 6,
    chunkDelayMs: 5,
    models: ["qwen-openai"],
  });
  native = await startFakeUpstream({ kind: "vllm", chunks: 4, chunkDelayMs: 5, models: ["qwen-native"] });
  scripted = startScriptedServer();
  olla = await startTestOlla(
    `server:\n  rate_limits:\n    per_ip_requests_per_minute: 0\n` +
      `translators:\n  anthropic:\n    max_message_size: 64KiB\n` +
      `model_aliases:\n  claude-sonnet-5-5: [qwen-openai]\n  claude-haiku-5-5: [qwen-native]\n` +
      endpointsYaml([
        { name: "sglang-box", url: translated.url, type: "sglang" },
        { name: "vllm-box", url: native.url, type: "vllm" },
        { name: "scripted", url: scripted.url, type: "openai-compatible" },
      ]),
  );
  client = anthropicClient(olla.url);
});
afterAll(async () => {
  await olla.stop();
  await translated.stop();
  await native.stop();
  scripted.stop();
});

const lastBody = (fake: FakeUpstream, path: string) =>
  JSON.parse(fake.requests.filter((request) => request.path === path).at(-1)!.body) as Record<
    string,
    unknown
  >;

describe("translation to an OpenAI-style endpoint", () => {
  test("text with a system prompt and several turns; usage; X-Olla-Mode: translation", async () => {
    const { data: message, response } = await client.messages
      .create({
        model: "qwen-openai",
        max_tokens: 100,
        system: "You are terse.",
        messages: [
          { role: "user", content: "Hello" },
          { role: "assistant", content: "Hi." },
          { role: "user", content: [{ type: "text", text: "Tell me more" }] },
        ],
      })
      .withResponse();
    expect(response.headers.get("x-olla-mode")).toBe("translation");
    expect(response.headers.get("x-olla-endpoint")).toBe("sglang-box");
    expect(message.type).toBe("message");
    expect(message.model).toBe("qwen-openai");
    expect(message.content).toEqual([{ type: "text", text: replyTokens(6).join("") } as never]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const sent = lastBody(translated, "/v1/chat/completions");
    expect(sent.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Hi." },
      { role: "user", content: "Tell me more" },
    ]);
    expect(sent.max_tokens).toBe(100);
  });

  test("streamed: the SDK assembles the exact event sequence into the same answer", async () => {
    const stream = client.messages.stream({
      model: "qwen-openai",
      max_tokens: 50,
      messages: [{ role: "user", content: "Stream it" }],
    });
    const events: string[] = [];
    stream.on("streamEvent", (event) => events.push(event.type));
    const message = await stream.finalMessage();
    expect(message.content.map((block) => (block.type === "text" ? block.text : block.type)).join("")).toBe(
      replyTokens(6).join(""),
    );
    expect(events[0]).toBe("message_start");
    expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(events.filter((type) => type === "content_block_delta").length).toBeGreaterThanOrEqual(6);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    expect(lastBody(translated, "/v1/chat/completions").stream_options).toEqual({ include_usage: true });
  });

  test("tools: definitions and tool_choice go over; the call comes back as tool_use, streamed and not", async () => {
    translated.set({ toolCalls: true });
    try {
      const tools = [
        {
          name: "get_weather",
          description: "Weather for a city",
          input_schema: { type: "object" as const, properties: { city: { type: "string" } } },
        },
      ];
      const message = await client.messages.create({
        model: "qwen-openai",
        max_tokens: 50,
        tools,
        tool_choice: { type: "any" },
        messages: [{ role: "user", content: "Weather in Oslo?" }],
      });
      expect(message.stop_reason).toBe("tool_use");
      const call = message.content.find((block) => block.type === "tool_use")!;
      expect(call).toMatchObject({ type: "tool_use", name: "get_weather", input: {} });
      const sent = lastBody(translated, "/v1/chat/completions");
      expect(sent.tool_choice).toBe("required");
      expect((sent.tools as { function: { name: string } }[])[0]!.function.name).toBe("get_weather");

      const streamed = await client.messages
        .stream({
          model: "qwen-openai",
          max_tokens: 50,
          tools,
          messages: [{ role: "user", content: "Again?" }],
        })
        .finalMessage();
      expect(streamed.stop_reason).toBe("tool_use");
      expect(streamed.content.find((block) => block.type === "tool_use")).toMatchObject({
        name: "get_weather",
      });

      // The result goes back as a tool message, before the user's text.
      await client.messages.create({
        model: "qwen-openai",
        max_tokens: 50,
        tools,
        messages: [
          { role: "user", content: "Weather in Oslo?" },
          {
            role: "assistant",
            content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } }],
          },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_1", content: "rainy, 8°C" },
              { type: "text", text: "Thanks" },
            ],
          },
        ],
      });
      const turns = lastBody(translated, "/v1/chat/completions").messages as Record<string, unknown>[];
      expect(turns.slice(-3)).toEqual([
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "toolu_1",
              type: "function",
              function: { name: "get_weather", arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "rainy, 8°C" },
        { role: "user", content: "Thanks" },
      ]);
    } finally {
      translated.set({ toolCalls: false });
    }
  });

  test("thinking, stop sequences and images: reasoning becomes a thinking block, images reach the endpoint", async () => {
    const message = await client.messages
      .stream({
        model: "thinker",
        max_tokens: 50,
        stop_sequences: ["END"],
        messages: [
          {
            role: "user",
            content: [
              { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
              { type: "image", source: { type: "url", url: "https://example.com/cat.png" } },
              { type: "text", text: "What is this?" },
            ],
          },
        ],
      })
      .finalMessage();
    expect(message.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(message.content[0]).toMatchObject({ type: "thinking", thinking: "Let me think." });
    expect(message.content[1]).toMatchObject({ type: "text", text: "Forty-two" });
    expect(message.stop_reason).toBe("stop_sequence");
    expect(message.stop_sequence).toBe("END");
    expect(message.usage).toMatchObject({ output_tokens: 5 });
    const sent = scripted.received.at(-1)!;
    expect(sent.stop).toEqual(["END"]);
    const parts = (sent.messages as { content: { type: string; image_url?: { url: string } }[] }[])[0]!
      .content;
    expect(parts.map((part) => part.image_url?.url ?? part.type)).toEqual([
      "data:image/png;base64,iVBORw0KGgo=",
      "https://example.com/cat.png",
      "text",
    ]);

    const whole = await client.messages.create({
      model: "thinker",
      max_tokens: 50,
      stop_sequences: ["END"],
      messages: [{ role: "user", content: "Again" }],
    });
    expect(whole.content.map((block) => block.type)).toEqual(["thinking", "text"]);
    expect(whole.stop_reason).toBe("stop_sequence");
    expect(whole.usage).toMatchObject({ input_tokens: 11, output_tokens: 5 });
  });

  test("a model alias: claude-sonnet-5-5 runs on the local model", async () => {
    const message = await client.messages.create({
      model: "claude-sonnet-5-5",
      max_tokens: 20,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.model).toBe("claude-sonnet-5-5");
    expect(lastBody(translated, "/v1/chat/completions").model).toBe("qwen-openai");
  });
});

describe("passthrough to a native Anthropic endpoint", () => {
  test("the request goes as it is to /v1/messages; X-Olla-Mode: passthrough; streamed too", async () => {
    native.clearRequests();
    const { data: message, response } = await client.messages
      .create({ model: "qwen-native", max_tokens: 30, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    expect(response.headers.get("x-olla-mode")).toBe("passthrough");
    expect(response.headers.get("x-olla-endpoint")).toBe("vllm-box");
    expect(message.content[0]).toMatchObject({ type: "text", text: replyTokens(4).join("") });
    const forwarded = native.requests.find((request) => request.path === "/v1/messages")!;
    expect(JSON.parse(forwarded.body)).toEqual({
      model: "qwen-native",
      max_tokens: 30,
      messages: [{ role: "user", content: "hi" }],
    });
    const streamed = await client.messages
      .stream({ model: "qwen-native", max_tokens: 30, messages: [{ role: "user", content: "hi" }] })
      .finalMessage();
    expect(streamed.content[0]).toMatchObject({ type: "text", text: replyTokens(4).join("") });
    expect(native.requests.filter((request) => request.path === "/v1/chat/completions").length).toBe(0);
  });

  test("an alias: only the model is renamed, the rest goes byte for byte as the client sent it", async () => {
    native.clearRequests();
    const sent = (model: string) =>
      `{"model":  ${JSON.stringify(model)}, "max_tokens":30,\n "messages": [{"role":"user","content":"hi"}]}`;
    const response = await fetch(`${olla.url}/olla/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: sent("claude-haiku-5-5"),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-mode")).toBe("passthrough");
    await response.arrayBuffer();
    expect(native.requests.find((request) => request.path === "/v1/messages")!.body).toBe(
      sent("qwen-native"),
    );
  });
});

describe("errors in Anthropic's format", () => {
  test("an unknown model: 404 not_found_error with request-id", async () => {
    const error = await client.messages
      .create({ model: "no-such-model", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    const failure = error as InstanceType<typeof Anthropic.NotFoundError>;
    expect(failure.requestID).toBeTruthy();
    expect((failure.error as { error: { type: string } }).error.type).toBe("not_found_error");
    expect(failure.message).toContain("model no-such-model is not served by any endpoint");
  });

  test("an invalid request: 400 invalid_request_error naming the field; nothing forwarded", async () => {
    translated.clearRequests();
    const response = await fetch(`${olla.url}/olla/anthropic/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen-openai", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("max_tokens");
    expect(response.headers.get("request-id")).toBeTruthy();
    expect(translated.requests.length).toBe(0);
  });

  /** A request of about `size` bytes that olla must refuse as too large, in Anthropic's envelope. */
  async function expectTooLarge(url: string, size: number) {
    const response = await postJson(url, {
      model: "qwen-openai",
      max_tokens: 5,
      messages: [{ role: "user", content: "x".repeat(size) }],
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe("request_too_large");
  }

  test("a body over max_message_size: 413 request_too_large, for messages and count_tokens", async () => {
    for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
      await expectTooLarge(`${olla.url}/olla/anthropic${path}`, 70_000);
    }
  });

  test("server.request_limits.max_body_size holds on this route too, when it is the tighter limit", async () => {
    const strict = await startTestOlla(
      `server:\n  request_limits:\n    max_body_size: 1KiB\n` +
        endpointsYaml([{ name: "sglang-box", url: translated.url, type: "sglang" }]),
    );
    try {
      translated.clearRequests();
      await expectTooLarge(`${strict.url}/olla/anthropic/v1/messages`, 5_000);
      expect(translated.requests.length).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  test("an endpoint error comes back as an Anthropic error", async () => {
    translated.set({ fail: { status: 500, message: "CUDA out of memory" } as never });
    try {
      const error = await client.messages
        .create({ model: "qwen-openai", max_tokens: 5, messages: [{ role: "user", content: "hi" }] })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Anthropic.InternalServerError);
      expect(String((error as Error).message)).toContain("CUDA out of memory");
    } finally {
      translated.set({ fail: null });
    }
  });

  test("a stream the endpoint cuts mid-way ends with an error event, not a clean stop", async () => {
    translated.set({ dieMidStream: 2 });
    try {
      const failure = await client.messages
        .stream({ model: "qwen-openai", max_tokens: 50, messages: [{ role: "user", content: "hi" }] })
        .finalMessage()
        .catch((caught: unknown) => caught);
      expect(failure).toBeInstanceOf(Anthropic.APIError);
    } finally {
      translated.set({ dieMidStream: null });
    }
  });

  test("an answer the endpoint cuts short: 502 api_error (its failure, not olla's)", async () => {
    translated.set({ dieMidStream: 1 });
    try {
      const post = (path: string, model: string) =>
        fetch(`${olla.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
        });
      const response = await post("/olla/anthropic/v1/messages", "qwen-openai");
      expect(response.status).toBe(502);
      expect(response.headers.get("request-id")).toBeTruthy();
      const body = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(body.type).toBe("error");
      expect(body.error.type).toBe("api_error");
      expect(body.error.message).toContain("endpoint sglang-box failed mid-answer");
    } finally {
      translated.set({ dieMidStream: null });
    }
  });

  test("an answer the response deadline cuts short: 504 timeout_error naming the setting", async () => {
    const hasty = await startTestOlla(
      `proxy:\n  response_timeout: 300ms\n` +
        endpointsYaml([{ name: "sglang-box", url: translated.url, type: "sglang" }]),
    );
    // Half the answer, then a pause past the deadline before the rest (which would be cut anyway).
    translated.set({ dieMidStream: 1, quietGap: { afterFrames: 1, ms: 2_000 } });
    try {
      const response = await postJson(`${hasty.url}/olla/anthropic/v1/messages`, {
        model: "qwen-openai",
        max_tokens: 5,
        messages: [{ role: "user", content: "hi" }],
      });
      expect(response.status).toBe(504);
      const body = (await response.json()) as { type: string; error: { type: string; message: string } };
      expect(body.error.type).toBe("timeout_error");
      expect(body.error.message).toContain("proxy.response_timeout");
    } finally {
      translated.set({ dieMidStream: null, quietGap: null });
      await hasty.stop();
    }
  });

  test("a stream cut mid-way ends with Anthropic's error event, passthrough and translated alike", async () => {
    const stream = async (model: string) => {
      const response = await fetch(`${olla.url}/olla/anthropic/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model,
          max_tokens: 50,
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
      });
      expect(response.status).toBe(200);
      return response;
    };
    for (const [fake, model, mode] of [
      [native, "qwen-native", "passthrough"],
      [translated, "qwen-openai", "translation"],
    ] as const) {
      fake.set({ dieMidStream: 3 });
      try {
        const response = await stream(model);
        expect(response.headers.get("x-olla-mode")).toBe(mode);
        const { events } = await readSse(response, { allowError: true });
        const last = events.at(-1)!;
        expect(last.event).toBe("error");
        expect(last.json).toMatchObject({ type: "error", error: { type: "api_error" } });
        expect((last.json as { error: { message: string } }).error.message).toContain("failed mid-stream");
        expect(events.some((event) => event.event === "message_stop")).toBe(false);
      } finally {
        fake.set({ dieMidStream: null });
      }
    }
  });

  test("the client going away stops the endpoint's stream", async () => {
    translated.set({ chunks: 200, chunkDelayMs: 20 });
    const before = translated.counters.streamsCancelled;
    try {
      const controller = new AbortController();
      const stream = client.messages.stream(
        { model: "qwen-openai", max_tokens: 500, messages: [{ role: "user", content: "long" }] },
        { signal: controller.signal },
      );
      await new Promise<void>((resolve) => stream.on("text", () => resolve()));
      controller.abort();
      await stream.finalMessage().catch(() => {});
      const deadline = performance.now() + 3000;
      while (translated.counters.streamsCancelled === before && performance.now() < deadline)
        await Bun.sleep(10);
      expect(translated.counters.streamsCancelled).toBe(before + 1);
    } finally {
      translated.set({ chunks: 6, chunkDelayMs: 5 });
    }
  });
});

describe("Anthropic's API forwarded by /olla/v1 to endpoints that speak it: errors in its envelope", () => {
  const post = (path: string, body: string) =>
    fetch(`${olla.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

  test("invalid JSON, an unknown model, on /olla/, /olla/proxy/ and /olla/<provider>/", async () => {
    for (const prefix of ["/olla", "/olla/proxy", "/olla/vllm"]) {
      for (const [path, body, status, type] of [
        [`${prefix}/v1/messages`, '{"model": [', 400, "invalid_request_error"],
        [
          `${prefix}/v1/messages/count_tokens`,
          JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
          404,
          "not_found_error",
        ],
      ] as const) {
        const response = await post(path, body);
        expect({ path, status: response.status }).toEqual({ path, status });
        expect(await response.json()).toMatchObject({ type: "error", error: { type } });
      }
    }
  });

  test("a body over server.request_limits.max_body_size: 413 request_too_large", async () => {
    const strict = await startTestOlla(
      `server:\n  request_limits:\n    max_body_size: 1KiB\n` +
        endpointsYaml([{ name: "vllm-box", url: native.url, type: "vllm" }]),
    );
    try {
      const response = await fetch(`${strict.url}/olla/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "qwen-native",
          messages: [{ role: "user", content: "x".repeat(5_000) }],
        }),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    } finally {
      await strict.stop();
    }
  });
});

describe("hostile bodies and a fleet that is down", () => {
  test("JSON nested 50,000 levels deep: 400 invalid_request_error, nothing forwarded, nothing internal told", async () => {
    const roomy = await startTestOlla(
      `server:\n  rate_limits:\n    per_ip_requests_per_minute: 0\n` +
        endpointsYaml([
          { name: "sglang-box", url: translated.url, type: "sglang" },
          { name: "vllm-box", url: native.url, type: "vllm" },
        ]),
    );
    try {
      const depth = 50_000;
      const schema = `${'{"type":"object","properties":{"a":'.repeat(depth)}{}${"}}".repeat(depth)}`;
      translated.clearRequests();
      native.clearRequests();
      for (const model of ["qwen-openai", "qwen-native"]) {
        for (const path of ["/v1/messages", "/v1/messages/count_tokens"]) {
          const response = await fetch(`${roomy.url}/olla/anthropic${path}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body:
              `{"model":${JSON.stringify(model)},"max_tokens":5,"messages":[{"role":"user","content":"hi"}],` +
              `"tools":[{"name":"deep","input_schema":${schema}}]}`,
          });
          const body = (await response.json()) as { type: string; error: { type: string; message: string } };
          expect({ model, path, status: response.status }).toEqual({ model, path, status: 400 });
          expect(body.type).toBe("error");
          expect(body.error.type).toBe("invalid_request_error");
          expect(body.error.message).toContain("nested more than 512 levels deep");
        }
      }
      const inference = (fake: FakeUpstream) =>
        fake.requests.filter(
          (request) => request.path.startsWith("/v1/chat") || request.path.startsWith("/v1/messages"),
        );
      expect(inference(translated)).toEqual([]);
      expect(inference(native)).toEqual([]);
    } finally {
      await roomy.stop();
    }
  });

  test("every endpoint down: 503 'no healthy endpoints available', not 'no healthy any endpoints'", async () => {
    const doomed = await startFakeUpstream({ kind: "sglang", models: ["qwen-doomed"] });
    const lonely = await startTestOlla(endpointsYaml([{ name: "doomed", url: doomed.url, type: "sglang" }]));
    try {
      await doomed.stop();
      const endpoint = lonely.app.endpoints[0]!;
      await lonely.app.health.checkNow(endpoint);
      expect(endpoint.status).toBe("offline");
      for (const path of ["/olla/anthropic/v1/messages", "/olla/v1/chat/completions"]) {
        const response = await postJson(`${lonely.url}${path}`, {
          model: "qwen-doomed",
          max_tokens: 5,
          messages: [{ role: "user", content: "hi" }],
        });
        expect(response.status).toBe(503);
        const body = (await response.json()) as { error: { message: string } };
        expect(body.error.message).toBe("no healthy endpoints available");
      }
    } finally {
      await lonely.stop();
    }
  });
});

describe("count_tokens and models", () => {
  test("count_tokens: an estimate, labelled as such, when no backend counts", async () => {
    const response = await fetch(`${olla.url}/olla/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen-openai", messages: [{ role: "user", content: "x".repeat(400) }] }),
    });
    expect(response.headers.get("x-olla-token-count")).toBe("estimate");
    const counted = await client.messages.countTokens({
      model: "qwen-openai",
      messages: [{ role: "user", content: "x".repeat(400) }],
    });
    expect(counted.input_tokens).toBe(((await response.json()) as { input_tokens: number }).input_tokens);
    expect(counted.input_tokens).toBeGreaterThanOrEqual(100);
  });

  test("models: the fleet's models in Anthropic's list format", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(["qwen-native", "qwen-openai", "thinker"]);
  });
});

describe("a backend that counts tokens, and the inspector", () => {
  let counting: FakeUpstream;
  let inspected: TestOlla;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "olla-inspector-"));
    counting = await startFakeUpstream({ kind: "llamacpp", chunks: 3, models: ["qwen-counted"] });
    inspected = await startTestOlla(
      `server:\n  rate_limits:\n    per_ip_requests_per_minute: 0\n` +
        // Translated, so the inspector sees the answer too (passthrough answers go back untouched).
        `model_aliases:\n  claude-counter: [qwen-counted]\n` +
        `translators:\n  anthropic:\n    passthrough_enabled: false\n` +
        `    inspector:\n      enabled: true\n      output_dir: ${dir}\n` +
        endpointsYaml([{ name: "llama-box", url: counting.url, type: "llamacpp" }]),
    );
  });
  afterAll(async () => {
    await inspected.stop();
    await counting.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("count_tokens asks a backend whose profile counts, and says so", async () => {
    const body = JSON.stringify({
      model: "qwen-counted",
      messages: [{ role: "user", content: "count these few words please" }],
    });
    const post = (url: string) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
    const response = await post(`${inspected.url}/olla/anthropic/v1/messages/count_tokens`);
    expect(response.headers.get("x-olla-token-count")).toBe("backend");
    expect(response.headers.get("x-olla-endpoint")).toBe("llama-box");
    const direct = (await (await post(`${counting.url}/v1/messages/count_tokens`)).json()) as {
      input_tokens: number;
    };
    expect(await response.json()).toEqual({ input_tokens: direct.input_tokens });
  });

  test("count_tokens for an alias asks the backend under the backend's name for the model", async () => {
    counting.clearRequests();
    const response = await fetch(`${inspected.url}/olla/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-counter", messages: [{ role: "user", content: "a few words" }] }),
    });
    expect(response.headers.get("x-olla-token-count")).toBe("backend");
    expect(response.headers.get("x-olla-endpoint")).toBe("llama-box");
    expect((await response.json()) as object).toHaveProperty("input_tokens");
    expect(lastBody(counting, "/v1/messages/count_tokens").model).toBe("qwen-counted");
  });

  test("the inspector writes the request and the answer to <dir>/<day>/<session>.jsonl", async () => {
    const message = await new Anthropic({
      baseURL: `${inspected.url}/olla/anthropic`,
      apiKey: "unused",
      maxRetries: 0,
      defaultHeaders: { "X-Session-ID": "session-7" },
    }).messages.create({
      model: "qwen-counted",
      max_tokens: 20,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(message.type).toBe("message");
    const [day] = readdirSync(dir);
    const lines = readFileSync(join(dir, day!, "session-7.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { type: string; model: string; body: { messages?: unknown } });
    expect(lines.map((line) => [line.type, line.model])).toEqual([
      ["request", "qwen-counted"],
      ["response", "qwen-counted"],
    ]);
    expect(lines[0]!.body.messages).toEqual([{ role: "user", content: "hi" }]);
  });
});
