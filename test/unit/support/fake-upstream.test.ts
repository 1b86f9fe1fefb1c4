// Proves the fake upstreams speak the real wire formats (driven by the official `openai` and `ollama`
// clients) and that every test control does what it says (driven by plain fetch and raw sockets).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI, { NotFoundError } from "openai";
import {
  defaultModels,
  type FakeKind,
  type FakeUpstream,
  type FakeUpstreamOptions,
  OLLAMA_VERSION,
  readNdjson,
  readSse,
  replyTokens,
  startFakeUpstream,
  withTimeout,
  until,
} from "../../support/index.ts";

const REPLY = replyTokens(3).join("");

function openaiClient(fake: FakeUpstream): OpenAI {
  return new OpenAI({ baseURL: `${fake.url}/v1`, apiKey: "x", maxRetries: 0, timeout: 5_000 });
}

async function withFake(options: FakeUpstreamOptions, run: (fake: FakeUpstream) => Promise<void>) {
  const fake = await startFakeUpstream(options);
  try {
    await run(fake);
  } finally {
    await fake.stop();
  }
}

const post = (fake: FakeUpstream, path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    ...init,
  });

const chatBody = (model: string, extra: object = {}) => ({
  model,
  messages: [{ role: "user", content: "Say hello" }],
  ...extra,
});

/** Wire JSON, inspected loosely: the assertions are the schema. */
// `any` on purpose: arbitrary wire JSON, checked field by field by the assertions
const json = async (res: Response | Promise<Response>): Promise<any> => (await res).json();

/** One HTTP/1.1 exchange over a raw socket, returning every byte the server sent before closing. */
function rawExchange(port: number, request: string): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve) => {
      let text = "";
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (socket) => void socket.write(request),
          data: (_socket, data) => {
            text += data.toString();
          },
          close: () => resolve(text),
          error: () => resolve(text),
        },
      });
    }),
    3_000,
    "raw exchange",
  );
}

describe("ollama kind, through the official ollama client", () => {
  let fake: FakeUpstream;
  let client: Ollama;
  beforeAll(async () => {
    fake = await startFakeUpstream({
      kind: "ollama",
      models: ["llama3.2:latest", { id: "qwen2.5:7b", loaded: false }, "nomic-embed-text:latest"],
    });
    client = new Ollama({ host: fake.url });
  });
  afterAll(() => fake.stop());

  test("GET / says Ollama is running; version", async () => {
    expect(await (await fetch(fake.url)).text()).toBe("Ollama is running");
    expect(await client.version()).toEqual({ version: OLLAMA_VERSION });
  });

  test("list() returns /api/tags entries with details", async () => {
    const { models } = await client.list();
    expect(models.map((m) => m.name)).toEqual(["llama3.2:latest", "qwen2.5:7b", "nomic-embed-text:latest"]);
    const first = models[0]!;
    expect(first.model).toBe("llama3.2:latest");
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(first.size).toBeGreaterThan(0);
    expect(typeof first.modified_at).toBe("string");
    expect(first.details).toEqual({
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "3.2B",
      quantization_level: "Q4_K_M",
    });
  });

  test("ps() lists only loaded models with size_vram and expires_at", async () => {
    const { models } = await client.ps();
    expect(models.map((m) => m.name)).toEqual(["llama3.2:latest", "nomic-embed-text:latest"]);
    expect(models[0]!.size_vram).toBe(models[0]!.size);
    expect(Date.parse(String(models[0]!.expires_at))).toBeGreaterThan(Date.now());
  });

  test("show() returns details, model_info and capabilities; unknown model is a 404", async () => {
    const shown = await client.show({ model: "llama3.2" });
    expect(shown.details.family).toBe("llama");
    expect(shown.capabilities).toEqual(["completion", "tools"]);
    expect((shown.model_info as unknown as Record<string, unknown>)["general.architecture"]).toBe("llama");
    await expect(client.show({ model: "nope" })).rejects.toMatchObject({ status_code: 404 });
  });

  test("chat, not streamed: one object with done and the timing fields", async () => {
    const res = await client.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: false,
    });
    expect(res.message).toEqual({ role: "assistant", content: REPLY });
    expect(res).toMatchObject({ model: "llama3.2", done: true, done_reason: "stop", eval_count: 3 });
    for (const k of [
      "total_duration",
      "load_duration",
      "prompt_eval_count",
      "prompt_eval_duration",
      "eval_duration",
    ])
      expect(res[k as keyof typeof res]).toBeGreaterThan(0);
  });

  test("chat, streamed: NDJSON pieces then a final done object", async () => {
    const parts = [];
    for await (const part of await client.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    }))
      parts.push(part);
    expect(parts.map((p) => p.message.content).join("")).toBe(REPLY);
    expect(parts.slice(0, -1).every((p) => p.done === false)).toBe(true);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: "stop", eval_count: 3 });
    expect(parts.at(-1)!.prompt_eval_count).toBeGreaterThan(0);
  });

  test("chat with tools answers with a tool call", async () => {
    const res = await client.chat({
      model: "llama3.2",
      messages: [{ role: "user", content: "weather?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    });
    expect(res.message.tool_calls?.[0]?.function).toMatchObject({ name: "get_weather", arguments: {} });
  });

  test("generate, streamed and not", async () => {
    const whole = await client.generate({ model: "llama3.2", prompt: "hi", stream: false });
    expect(whole).toMatchObject({ response: REPLY, done: true, done_reason: "stop", eval_count: 3 });
    let text = "";
    let last: { done: boolean; context?: number[] } = { done: false };
    for await (const part of await client.generate({ model: "llama3.2", prompt: "hi", stream: true })) {
      text += part.response;
      last = part;
    }
    expect(text).toBe(REPLY);
    expect(last.done).toBe(true);
    expect(Array.isArray(last.context)).toBe(true);
  });

  test("a not-loaded model waits loadDelayMs once, then shows in ps()", async () => {
    fake.set({ loadDelayMs: 120 });
    const t0 = performance.now();
    await client.generate({ model: "qwen2.5:7b", prompt: "hi", stream: false });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    expect((await client.ps()).models.map((m) => m.name)).toContain("qwen2.5:7b");
    const t1 = performance.now();
    await client.generate({ model: "qwen2.5:7b", prompt: "hi", stream: false });
    expect(performance.now() - t1).toBeLessThan(100);
    fake.set({ loadDelayMs: 0 });
  });

  test("embed() and embeddings()", async () => {
    const res = await client.embed({ model: "nomic-embed-text", input: ["a", "b"] });
    expect(res.model).toBe("nomic-embed-text");
    expect(res.embeddings).toHaveLength(2);
    expect(res.embeddings[0]).toHaveLength(8);
    expect(res.embeddings[0]).not.toEqual(res.embeddings[1]);
    const legacy = await client.embeddings({ model: "nomic-embed-text", prompt: "a" });
    expect(legacy.embedding).toEqual(res.embeddings[0]!);
  });

  test("unknown model: 404 with Ollama's message", async () => {
    await expect(client.chat({ model: "llama9", messages: [], stream: false })).rejects.toMatchObject({
      status_code: 404,
      error: 'model "llama9" not found, try pulling it first',
    });
  });

  test("Ollama's OpenAI-compatible /v1 and unknown-path 404", async () => {
    const openai = openaiClient(fake);
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    expect(ids).toEqual(["llama3.2:latest", "qwen2.5:7b", "nomic-embed-text:latest"]);
    const res = await openai.chat.completions.create({
      model: "llama3.2",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.system_fingerprint).toBe("fp_ollama");
    const error = await openai.chat.completions
      .create({ model: "nope", messages: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    const missing = await fetch(`${fake.url}/nowhere`);
    expect([missing.status, await missing.text()]).toEqual([404, "404 page not found"]);
  });

  test("Anthropic /v1/messages: JSON and the named SSE events", async () => {
    const body = { model: "llama3.2", max_tokens: 10, messages: [{ role: "user", content: "hi" }] };
    const whole = await json(post(fake, "/v1/messages", body));
    expect(whole).toMatchObject({ type: "message", role: "assistant", stop_reason: "end_turn" });
    expect(whole.content).toEqual([{ type: "text", text: REPLY }]);
    const { events } = await readSse(await post(fake, "/v1/messages", { ...body, stream: true }));
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events.every((e) => (e.json as { type: string }).type === e.event)).toBe(true);
  });
});

const OPENAI_KINDS: FakeKind[] = ["openai", "vllm", "llamacpp", "lmstudio", "sglang", "ollama"];

describe.each(OPENAI_KINDS)("OpenAI API of kind %s, through the official openai client", (kind) => {
  let fake: FakeUpstream;
  let openai: OpenAI;
  const chatModel = defaultModels(kind)[0]!.id;
  beforeAll(async () => {
    fake = await startFakeUpstream({ kind });
    openai = openaiClient(fake);
  });
  afterAll(() => fake.stop());

  test("models.list", async () => {
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    expect(ids).toEqual(defaultModels(kind).map((m) => m.id));
  });

  test("chat completion, not streamed", async () => {
    const res = await openai.chat.completions.create({
      model: chatModel,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(res.object).toBe("chat.completion");
    expect(res.id).toStartWith("chatcmpl-");
    expect(res.model).toBe(chatModel);
    expect(res.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: REPLY },
      finish_reason: "stop",
    });
    expect(res.usage).toMatchObject({ completion_tokens: 3 });
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + 3);
  });

  test("chat completion, streamed with include_usage", async () => {
    const stream = await openai.chat.completions.create({
      model: chatModel,
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe(REPLY);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 3 });
  });

  test("streamed chat ends with data: [DONE] and has no usage chunk by default", async () => {
    const { events } = await readSse(
      await post(fake, "/v1/chat/completions", chatBody(chatModel, { stream: true })),
    );
    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(events).toHaveLength(1 + 3 + 1 + 1);
  });

  test("text completions, streamed and not", async () => {
    const whole = await openai.completions.create({ model: chatModel, prompt: "hi" });
    expect(whole.object).toBe("text_completion");
    expect(whole.choices[0]).toMatchObject({ text: REPLY, finish_reason: "stop" });
    let text = "";
    let finish: string | null = null;
    for await (const c of await openai.completions.create({ model: chatModel, prompt: "hi", stream: true })) {
      text += c.choices[0]?.text ?? "";
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect([text, finish]).toEqual([REPLY, "stop"]);
  });

  test("embeddings: the client's default base64 and explicit floats agree", async () => {
    const viaBase64 = await openai.embeddings.create({ model: chatModel, input: ["a", "b"] });
    const viaFloat = await openai.embeddings.create({
      model: chatModel,
      input: ["a", "b"],
      encoding_format: "float",
    });
    expect(viaBase64.data).toHaveLength(2);
    expect(Array.from(viaBase64.data[0]!.embedding)).toEqual(viaFloat.data[0]!.embedding);
    expect(viaFloat.data[1]!.embedding).toHaveLength(8);
    expect(viaFloat.usage.prompt_tokens).toBeGreaterThan(0);
  });

  test("tools get a tool_calls answer, streamed and not; a tool result gets text", async () => {
    const tools = [
      { type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } },
    ];
    const ask = { model: chatModel, messages: [{ role: "user" as const, content: "weather?" }], tools };
    const res = await openai.chat.completions.create(ask);
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
    const call = res.choices[0]!.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function).toEqual({ name: "get_weather", arguments: "{}" });

    let name = "";
    let args = "";
    let finish: string | null = null;
    for await (const chunk of await openai.chat.completions.create({ ...ask, stream: true })) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0]?.function;
      name += delta?.name ?? "";
      args += delta?.arguments ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect([name, args, finish]).toEqual(["get_weather", "{}", "tool_calls"]);

    const followUp = await openai.chat.completions.create({
      ...ask,
      messages: [
        ...ask.messages,
        res.choices[0]!.message,
        { role: "tool", tool_call_id: call!.id, content: "sunny" },
      ],
    });
    expect(followUp.choices[0]!.message.content).toBe(REPLY);
  });

  test(`unknown model: ${kind === "llamacpp" ? "served anyway (single-model server)" : "404"}`, async () => {
    const ask = openai.chat.completions.create({
      model: "no-such-model",
      messages: [{ role: "user", content: "x" }],
    });
    if (kind === "llamacpp") {
      expect((await ask).model).toBe("no-such-model");
      return;
    }
    const error = await ask.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    if (kind === "openai" || kind === "lmstudio" || kind === "sglang") {
      expect((error as NotFoundError).error).toMatchObject({
        type: "invalid_request_error",
        param: "model",
        code: "model_not_found",
      });
    }
  });
});

describe("kind-specific health and model lists", () => {
  test("vllm: /health is 200 empty; /v1/models has max_model_len, owned_by, root", async () => {
    await withFake({ kind: "vllm" }, async (fake) => {
      const health = await fetch(`${fake.url}/health`);
      expect([health.status, await health.text()]).toEqual([200, ""]);
      const { data } = await json(fetch(`${fake.url}/v1/models`));
      expect(data[0]).toMatchObject({
        id: "meta-llama/Llama-3.2-3B-Instruct",
        object: "model",
        owned_by: "vllm",
        root: "meta-llama/Llama-3.2-3B-Instruct",
        max_model_len: 131072,
      });
    });
  });

  test("llamacpp: /health is {status:ok}; /v1/models carries meta and a models array", async () => {
    await withFake({ kind: "llamacpp" }, async (fake) => {
      expect(await json(fetch(`${fake.url}/health`))).toEqual({ status: "ok" });
      const list = await json(fetch(`${fake.url}/v1/models`));
      expect(list.object).toBe("list");
      expect(list.data[0]).toMatchObject({ object: "model", owned_by: "llamacpp" });
      expect(Object.keys(list.data[0].meta)).toEqual([
        "vocab_type",
        "n_vocab",
        "n_ctx_train",
        "n_embd",
        "n_params",
        "size",
      ]);
      expect(list.models[0].name).toBe(list.data[0].id);
      const chat = await json(post(fake, "/v1/chat/completions", chatBody("any")));
      expect(chat.timings.predicted_n).toBe(3);
    });
  });

  test("lmstudio: /api/v0/models with type, state and context; loading flips state", async () => {
    await withFake({ kind: "lmstudio", loadDelayMs: 60 }, async (fake) => {
      const v0 = async () => (await json(fetch(`${fake.url}/api/v0/models`))).data;
      const before = await v0();
      expect(before[0]).toEqual({
        id: "llama-3.2-3b-instruct",
        object: "model",
        type: "llm",
        publisher: "lmstudio-community",
        arch: "llama",
        compatibility_type: "gguf",
        quantization: "Q4_K_M",
        state: "loaded",
        max_context_length: 131072,
      });
      expect(before.map((m: { state: string }) => m.state)).toEqual(["loaded", "not-loaded", "loaded"]);
      expect(before[2].type).toBe("embeddings");
      const t0 = performance.now();
      expect((await post(fake, "/api/v0/chat/completions", chatBody("qwen2.5-7b-instruct"))).status).toBe(
        200,
      );
      expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
      expect((await v0())[1].state).toBe("loaded");
      const v1 = await json(fetch(`${fake.url}/v1/models`));
      expect(v1.data[0]).toEqual({
        id: "llama-3.2-3b-instruct",
        object: "model",
        owned_by: "organization_owner",
      });
    });
  });

  test("sglang: /health and /get_model_info", async () => {
    await withFake({ kind: "sglang" }, async (fake) => {
      expect((await fetch(`${fake.url}/health`)).status).toBe(200);
      const info = await json(fetch(`${fake.url}/get_model_info`));
      expect(info).toMatchObject({ model_path: "meta-llama/Llama-3.2-3B-Instruct", is_generation: true });
      const { data } = await json(fetch(`${fake.url}/v1/models`));
      expect(data[0]).toMatchObject({ owned_by: "sglang", max_model_len: 131072 });
    });
  });
});

describe("controls", () => {
  test("the request log records method, path, query, headers and body", async () => {
    await withFake({ kind: "openai" }, async (fake) => {
      await post(fake, "/v1/chat/completions?trace=1", chatBody("gpt-4o-mini"), {
        headers: { "content-type": "application/json", authorization: "Bearer k" },
      });
      const entry = fake.requests[0]!;
      expect(entry).toMatchObject({
        method: "POST",
        path: "/v1/chat/completions",
        query: "trace=1",
        status: 200,
      });
      expect(entry.headers.authorization).toBe("Bearer k");
      expect(JSON.parse(entry.body).model).toBe("gpt-4o-mini");
      expect(entry.aborted).toBe(false);
      fake.clearRequests();
      expect(fake.requests).toHaveLength(0);
    });
  });

  test("forced statuses: every path, some paths, 429 with Retry-After, then recovery after `times`", async () => {
    await withFake({ kind: "openai", fail: { status: 500 } }, async (fake) => {
      const all = await fetch(`${fake.url}/v1/models`);
      expect(all.status).toBe(500);
      expect((await json(all)).error.type).toBe("server_error");

      fake.set({ fail: { status: 429, paths: ["/v1/chat/*"], times: 2 } });
      expect((await fetch(`${fake.url}/v1/models`)).status).toBe(200);
      const limited = await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"));
      expect([limited.status, limited.headers.get("retry-after")]).toEqual([429, "1"]);
      expect((await json(limited)).error.code).toBe("rate_limit_exceeded");
      expect((await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"))).status).toBe(429);
      expect((await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"))).status).toBe(200);
      expect(fake.behaviour.fail).toBeNull();
    });
    await withFake({ kind: "ollama", fail: { status: 401, message: "unauthorized" } }, async (fake) => {
      const res = await post(fake, "/api/chat", chatBody("llama3.2"));
      expect([res.status, await json(res)]).toEqual([401, { error: "unauthorized" }]);
      fake.behaviour.fail = { status: 403 };
      expect((await fetch(`${fake.url}/v1/models`)).status).toBe(403);
    });
  });

  test("headerDelayMs holds the headers of inference routes; healthDelayMs those of probes", async () => {
    await withFake({ kind: "vllm", headerDelayMs: 400, healthDelayMs: 60 }, async (fake) => {
      let t0 = performance.now();
      const res = await post(
        fake,
        "/v1/chat/completions",
        chatBody("meta-llama/Llama-3.2-3B-Instruct", { stream: true }),
      );
      expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
      await res.text();
      t0 = performance.now();
      await fetch(`${fake.url}/health`);
      const probe = performance.now() - t0;
      expect(probe).toBeGreaterThanOrEqual(55);
      expect(probe).toBeLessThan(300);
    });
  });

  test("a client leaving during the header delay is recorded as aborted", async () => {
    await withFake({ kind: "openai", headerDelayMs: 2_000 }, async (fake) => {
      const pending = post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"), {
        signal: AbortSignal.timeout(80),
      });
      await expect(pending).rejects.toThrow();
      await until(() => fake.requests[0]?.aborted === true, 1_000, "abort recorded");
      await until(() => fake.counters.inFlight === 0, 1_000, "in-flight released");
      expect(fake.requests[0]!.status).toBeNull();
    });
  });

  test("a client leaving while a model loads leaves no stream behind", async () => {
    await withFake(
      { kind: "ollama", models: [{ id: "cold:latest", loaded: false }], loadDelayMs: 300 },
      async (fake) => {
        const pending = post(fake, "/api/chat", chatBody("cold"), { signal: AbortSignal.timeout(50) });
        await expect(pending).rejects.toThrow();
        await until(() => fake.counters.inFlight === 0, 1_000, "in-flight released");
        expect(fake.counters.activeStreams).toBe(0);
        expect(fake.requests[0]!.aborted).toBe(true);
      },
    );
  });

  test("logRequests: false keeps no log but still counts", async () => {
    await withFake({ kind: "openai", logRequests: false }, async (fake) => {
      await (await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true }))).text();
      expect(fake.requests).toHaveLength(0);
      expect(fake.counters.streamsCompleted).toBe(1);
    });
  });

  test("bad JSON is a 400 in the path's error envelope", async () => {
    await withFake({ kind: "ollama" }, async (fake) => {
      const bad = { method: "POST", body: "{nope" };
      expect(await json(fetch(`${fake.url}/api/chat`, bad))).toHaveProperty("error");
      const openaiStyle = await fetch(`${fake.url}/v1/chat/completions`, bad);
      expect([openaiStyle.status, (await json(openaiStyle)).error.type]).toEqual([
        400,
        "invalid_request_error",
      ]);
    });
  });

  test("chunkDelayMs paces frames: each arrives in its own read", async () => {
    await withFake({ kind: "ollama", chunkDelayMs: 30 }, async (fake) => {
      const { objects } = await readNdjson(await post(fake, "/api/chat", chatBody("llama3.2")));
      expect(objects).toHaveLength(4);
      expect(new Set(objects.map((o) => o.read)).size).toBe(4);
      for (let i = 1; i < objects.length; i++)
        expect(objects[i]!.at - objects[i - 1]!.at).toBeGreaterThanOrEqual(20);
    });
  });

  test("quietGap pauses the stream after N frames", async () => {
    await withFake(
      { kind: "openai", chunkDelayMs: 1, quietGap: { afterFrames: 2, ms: 300 } },
      async (fake) => {
        const { events } = await readSse(
          await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true })),
        );
        const gaps = events.slice(1).map((e, i) => e.at - events[i]!.at);
        expect(gaps[1]).toBeGreaterThanOrEqual(290);
        expect(Math.max(...gaps.filter((_, i) => i !== 1))).toBeLessThan(200);
      },
    );
  });

  test("dieMidStream cuts an SSE stream: the reader errors after N events, no [DONE]", async () => {
    await withFake({ kind: "openai", dieMidStream: 2 }, async (fake) => {
      const res = await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true }));
      expect(res.status).toBe(200);
      const read = await readSse(res, { allowError: true });
      expect(read.events).toHaveLength(2);
      expect(read.error).toBeInstanceOf(Error);
      await expect(
        readSse(await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true }))),
      ).rejects.toThrow();
      expect(fake.counters).toMatchObject({ streamsDied: 2, activeStreams: 0, inFlight: 0 });
      expect(fake.requests.every((r) => !r.aborted)).toBe(true);
    });
  });

  test("dieMidStream on the wire: chunked body without its terminating chunk", async () => {
    await withFake({ kind: "ollama", dieMidStream: 1 }, async (fake) => {
      const body = JSON.stringify(chatBody("llama3.2"));
      const request = `POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      const raw = await rawExchange(fake.port, request);
      expect(raw).toStartWith("HTTP/1.1 200");
      expect(raw.toLowerCase()).toContain("transfer-encoding: chunked");
      expect(raw).toContain('"content":"Hello"');
      expect(raw).not.toContain("\r\n0\r\n\r\n");
      fake.set({ dieMidStream: null });
      const clean = await rawExchange(fake.port, request.replace("Host: x", "Host: x\r\nConnection: close"));
      expect(clean).toEndWith("\r\n0\r\n\r\n");
    });
  });

  test("dieMidStream 0 resets before headers; a non-streamed body is cut halfway", async () => {
    await withFake({ kind: "openai", dieMidStream: 0 }, async (fake) => {
      await expect(post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"))).rejects.toThrow();
      expect(fake.requests[0]!.status).toBeNull();
      fake.set({ dieMidStream: 3 });
      const res = await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini"));
      expect(res.status).toBe(200);
      await expect(res.json()).rejects.toThrow();
    });
  });

  test("hang accepts and never answers, on every path or only some", async () => {
    await withFake({ kind: "llamacpp", hang: ["/v1/chat/completions"] }, async (fake) => {
      expect((await fetch(`${fake.url}/health`)).status).toBe(200);
      const stuck = post(fake, "/v1/chat/completions", chatBody("m"), { signal: AbortSignal.timeout(100) });
      await expect(stuck).rejects.toThrow();
      await until(() => fake.requests.at(-1)?.aborted === true, 1_000, "hung request aborted");
      fake.set({ hang: true });
      await expect(fetch(`${fake.url}/health`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    });
  });

  test("a client abort mid-stream is recorded and releases the stream", async () => {
    await withFake({ kind: "openai", chunks: 50, chunkDelayMs: 20 }, async (fake) => {
      const controller = new AbortController();
      const res = await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true }), {
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      expect(fake.counters.activeStreams).toBe(1);
      controller.abort();
      await until(() => fake.counters.activeStreams === 0, 1_000, "stream released");
      expect(fake.counters).toMatchObject({ streamsCancelled: 1, inFlight: 0 });
      expect(fake.requests[0]!.aborted).toBe(true);
    });
  });

  test("counters track concurrent streams", async () => {
    await withFake({ kind: "ollama", chunkDelayMs: 20 }, async (fake) => {
      await Promise.all(
        [1, 2, 3].map(async () =>
          (await post(fake, "/api/generate", { model: "llama3.2", prompt: "x" })).text(),
        ),
      );
      expect(fake.counters).toMatchObject({ peakActiveStreams: 3, activeStreams: 0, streamsCompleted: 3 });
    });
  });

  test("stop frees the port (refused, open streams cut); restart listens on the same port", async () => {
    await withFake({ kind: "openai", chunks: 50, chunkDelayMs: 20 }, async (fake) => {
      const port = fake.port;
      const res = await post(fake, "/v1/chat/completions", chatBody("gpt-4o-mini", { stream: true }));
      const reading = readSse(res, { allowError: true });
      await until(() => fake.counters.activeStreams === 1, 1_000, "stream open");
      await fake.stop();
      expect(fake.running).toBe(false);
      expect((await withTimeout(reading, 2_000, "cut stream")).error).toBeInstanceOf(Error);
      const refused = await fetch(`${fake.url}/v1/models`).catch((e: { code?: string }) => e.code);
      expect(refused).toBe("ECONNREFUSED");
      expect(fake.requests[0]!.aborted).toBe(false);
      await fake.restart();
      expect([fake.running, fake.port]).toEqual([true, port]);
      expect((await fetch(`${fake.url}/v1/models`)).status).toBe(200);
    });
  });

  test("fixed port at start, and await using disposes", async () => {
    const first = await startFakeUpstream({ kind: "sglang" });
    const port = first.port;
    await first.stop();
    {
      await using again = await startFakeUpstream({ kind: "sglang", port });
      expect(again.url).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(`${again.url}/health`)).status).toBe(200);
    }
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});

describe("helpers", () => {
  test("withTimeout passes values through and names what timed out", async () => {
    expect(await withTimeout(Promise.resolve(7), 50, "x")).toBe(7);
    await expect(withTimeout(Bun.sleep(500), 20, "slow thing")).rejects.toThrow(
      "slow thing timed out after 20 ms",
    );
  });

  test("readSse handles multi-line data, comments, CRLF and events split across reads", async () => {
    const parts = [": comment\r\nevent: a\r\ndata: 1\r\n", 'data: 2\r\n\r\ndata: {"x"', ":1}\n\n"];
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = parts.shift();
        if (next === undefined) c.close();
        else c.enqueue(new TextEncoder().encode(next));
      },
    });
    const { events, reads } = await readSse(body);
    expect(reads).toBe(3);
    expect(events.map(({ event, data, json, read }) => ({ event, data, json, read }))).toEqual([
      { event: "a", data: "1\n2", json: undefined, read: 1 },
      { event: undefined, data: '{"x":1}', json: { x: 1 }, read: 2 },
    ]);
  });

  test("readNdjson parses an unterminated last line", async () => {
    const { objects } = await readNdjson(new Response('{"a":1}\n{"a":2}'));
    expect(objects.map((o) => o.value)).toEqual([{ a: 1 }, { a: 2 }]);
  });
});
