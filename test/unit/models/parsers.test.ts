// Model-list parsers: every fake kind's real list body parsed into the one shape, then hand-written
// bodies for the edges (foreign shapes, bad entries, duplicates, capability markers, /api/ps).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MODEL_LIST_PARSERS, ModelListError, parseOllamaLoaded } from "../../../src/models/parsers.ts";
import {
  type FakeKind,
  type FakeUpstream,
  type FakeUpstreamOptions,
  startFakeUpstream,
} from "../../support/index.ts";

const LLAMA_DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72";

const OPTIONS: Record<FakeKind, FakeUpstreamOptions> = {
  ollama: {
    kind: "ollama",
    models: [
      { id: "llama3.2:latest", digest: LLAMA_DIGEST },
      { id: "nomic-embed-text:latest" },
      { id: "qwen3:4b", loaded: false },
    ],
  },
  lmstudio: { kind: "lmstudio" },
  openai: { kind: "openai" },
  vllm: { kind: "vllm", models: [{ id: "meta-llama/Llama-3.2-3B-Instruct", contextLength: 32768 }] },
  sglang: { kind: "sglang" },
  llamacpp: { kind: "llamacpp" },
};

const fakes = {} as Record<FakeKind, FakeUpstream>;
beforeAll(async () => {
  const started = await Promise.all(Object.values(OPTIONS).map((options) => startFakeUpstream(options)));
  for (const fake of started) fakes[fake.kind] = fake;
});
afterAll(async () => {
  await Promise.all(Object.values(fakes).map((fake) => fake.stop()));
});

async function listOf(kind: FakeKind, path: string): Promise<unknown> {
  const response = await fetch(`${fakes[kind].url}${path}`, {
    proxy: false,
    signal: AbortSignal.timeout(2000),
  });
  expect(response.status).toBe(200);
  return response.json();
}

const parse = (format: string, body: unknown) => MODEL_LIST_PARSERS[format]!(body);
const names = (format: string, body: unknown) => parse(format, body).map((model) => model.name);

describe("model lists from each platform's real body", () => {
  test("Ollama /api/tags: digest, size, details, date; nomic-embed-text is embeddings only", async () => {
    const models = parse("ollama", await listOf("ollama", "/api/tags"));
    expect(models.map((model) => model.name)).toEqual([
      "llama3.2:latest",
      "nomic-embed-text:latest",
      "qwen3:4b",
    ]);
    expect(models[0]).toEqual({
      name: "llama3.2:latest",
      digest: LLAMA_DIGEST,
      sizeBytes: 2_019_393_189,
      family: "llama",
      families: ["llama"],
      parameterSize: "3.2B",
      quantization: "Q4_K_M",
      format: "gguf",
      capabilities: ["chat", "completion"],
      modifiedAt: "2025-10-01T10:00:00.123Z",
    });
    expect(models[1]).toMatchObject({
      family: "nomic-bert",
      parameterSize: "137M",
      quantization: "F16",
      sizeBytes: 274_302_450,
      capabilities: ["embeddings"],
    });
    // /api/tags does not say what is in memory: that is /api/ps's job.
    expect(models.every((model) => model.loaded === undefined)).toBe(true);
  });

  test("Ollama /api/ps: the loaded names", async () => {
    expect(parseOllamaLoaded(await listOf("ollama", "/api/ps"))).toEqual(
      new Set(["llama3.2:latest", "nomic-embed-text:latest"]),
    );
  });

  test("LM Studio /api/v0/models: type, load state, context, publisher", async () => {
    const models = parse("lmstudio", await listOf("lmstudio", "/api/v0/models"));
    expect(models.map((model) => [model.name, model.type, model.loaded])).toEqual([
      ["llama-3.2-3b-instruct", "llm", true],
      ["qwen2.5-7b-instruct", "llm", false],
      ["text-embedding-nomic-embed-text-v1.5", "embeddings", true],
    ]);
    expect(models[0]).toEqual({
      name: "llama-3.2-3b-instruct",
      type: "llm",
      family: "llama",
      publisher: "lmstudio-community",
      format: "gguf",
      quantization: "Q4_K_M",
      contextLength: 131072,
      loaded: true,
      capabilities: ["chat", "completion"],
    });
    expect(models[2]).toMatchObject({ contextLength: 2048, capabilities: ["embeddings"] });
  });

  test("OpenAI /v1/models: names; an embedding name is embeddings only", async () => {
    const models = parse("openai", await listOf("openai", "/v1/models"));
    expect(models).toEqual([
      { name: "gpt-4o-mini", capabilities: ["chat", "completion"] },
      { name: "text-embedding-3-small", capabilities: ["embeddings"] },
    ]);
  });

  test("vLLM and SGLang /v1/models: contextLength from max_model_len, publisher from the repository", async () => {
    expect(parse("vllm", await listOf("vllm", "/v1/models"))).toEqual([
      {
        name: "meta-llama/Llama-3.2-3B-Instruct",
        publisher: "meta-llama",
        contextLength: 32768,
        capabilities: ["chat", "completion"],
      },
    ]);
    expect(parse("sglang", await listOf("sglang", "/v1/models"))).toEqual([
      {
        name: "meta-llama/Llama-3.2-3B-Instruct",
        publisher: "meta-llama",
        contextLength: 131072,
        capabilities: ["chat", "completion"],
      },
    ]);
  });

  test("llama.cpp /v1/models: meta read, the model listed in data and models counted once", async () => {
    expect(parse("llamacpp", await listOf("llamacpp", "/v1/models"))).toEqual([
      {
        name: "llama-3.2-3b-instruct-q4_k_m.gguf",
        sizeBytes: 2_019_393_189,
        parameterSize: "3B",
        contextLength: 131072,
        format: "gguf",
        capabilities: ["chat", "completion"],
      },
    ]);
  });

  test("Ollama's own /v1/models reads with the OpenAI parser", async () => {
    expect(names("openai", await listOf("ollama", "/v1/models"))).toEqual([
      "llama3.2:latest",
      "nomic-embed-text:latest",
      "qwen3:4b",
    ]);
  });
});

describe("hand-written bodies", () => {
  test("a foreign outer shape throws a ModelListError saying what was expected", () => {
    const openaiBody = { object: "list", data: [{ id: "x" }] };
    const cases: [string, unknown, string][] = [
      ["ollama", openaiBody, '"models" array'],
      ["ollama", { models: null }, "Ollama /api/tags"],
      ["lmstudio", { models: [] }, '"data" array'],
      ["openai", [], '"data" array'],
      ["openai", null, '"data" array'],
      ["vllm", { data: {} }, '"data" array'],
      ["sglang", "not json", '"data" array'],
      ["llamacpp", {}, '"data" and/or "models"'],
      ["llamacpp", { data: [], models: 3 }, '"data" and/or "models"'],
    ];
    for (const [format, body, message] of cases) {
      expect(() => parse(format, body)).toThrow(ModelListError);
      expect(() => parse(format, body)).toThrow(message);
    }
    expect(() => parseOllamaLoaded(openaiBody)).toThrow(ModelListError);
    // Empty lists and a llama.cpp body with one of its two arrays are fine.
    expect(parse("ollama", { models: [] })).toEqual([]);
    expect(names("llamacpp", { models: [{ name: "m.gguf" }] })).toEqual(["m.gguf"]);
  });

  test("entries without a string name are skipped, not fatal; odd optional fields are dropped", () => {
    const bad = [null, 5, "x", [], {}, { name: 3 }, { name: "" }];
    expect(names("ollama", { models: [...bad, { name: "ok:latest", size: "big", details: "?" }] })).toEqual([
      "ok:latest",
    ]);
    expect(
      parse("ollama", { models: [{ name: "ok", size: "big", modified_at: "soon", details: [] }] }),
    ).toEqual([{ name: "ok", capabilities: ["chat", "completion"] }]);
    const badIds = [null, {}, { id: 7 }, { id: "" }];
    expect(names("openai", { data: [...badIds, { id: "gpt-4o" }] })).toEqual(["gpt-4o"]);
    expect(names("lmstudio", { data: [...badIds, { id: "m", type: "weird", state: 1 }] })).toEqual(["m"]);
    expect(parse("lmstudio", { data: [{ id: "m", type: "weird" }] })[0]!.type).toBeUndefined();
  });

  test("duplicates are removed; a repeat only fills what the first lacked", () => {
    const models = parse("ollama", {
      models: [{ name: "a", digest: "d1" }, { name: "b" }, { name: "a", digest: "d2", size: 5 }],
    });
    expect(models).toEqual([
      { name: "a", digest: "d1", sizeBytes: 5, capabilities: ["chat", "completion"] },
      { name: "b", capabilities: ["chat", "completion"] },
    ]);
    expect(names("openai", { data: [{ id: "x" }, { id: "x" }, { id: "y" }] })).toEqual(["x", "y"]);
    // llama.cpp's models[] may declare multimodal: it adds to what data[] gave.
    const merged = parse("llamacpp", {
      data: [{ id: "gemma.gguf", meta: { n_ctx_train: 8192 } }],
      models: [{ name: "gemma.gguf", capabilities: ["completion", "multimodal"] }],
    });
    expect(merged).toEqual([
      {
        name: "gemma.gguf",
        contextLength: 8192,
        format: "gguf",
        capabilities: ["chat", "completion", "vision"],
      },
    ]);
  });

  test("capabilities: embeddings and vision from type, families or name; else chat and completion", () => {
    const ollama = parse("ollama", {
      models: [
        { name: "bge-m3:latest", details: { family: "bert", families: ["bert"] } },
        { name: "llama3.2-vision:11b", details: { family: "mllama", families: ["mllama"] } },
        { name: "minicpm-v:8b", details: { family: "qwen2", families: ["qwen2", "clip"] } },
        { name: "llava:7b" },
        { name: "qwen2.5vl:7b", details: { family: "qwen25vl" } },
        { name: "mistral:7b", details: { family: "llama" } },
      ],
    });
    expect(Object.fromEntries(ollama.map((model) => [model.name, model.capabilities]))).toEqual({
      "bge-m3:latest": ["embeddings"],
      "llama3.2-vision:11b": ["chat", "completion", "vision"],
      "minicpm-v:8b": ["chat", "completion", "vision"],
      "llava:7b": ["chat", "completion", "vision"],
      "qwen2.5vl:7b": ["chat", "completion", "vision"],
      "mistral:7b": ["chat", "completion"],
    });
    const lmstudio = parse("lmstudio", {
      data: [
        { id: "gemma-3-12b", type: "vlm", state: "loaded" },
        { id: "some-encoder", type: "embeddings" },
        { id: "qwen3-8b", type: "llm", capabilities: ["tool_use", "constructor", 3] },
      ],
    });
    expect(lmstudio.map((model) => model.capabilities)).toEqual([
      ["chat", "completion", "vision"],
      ["embeddings"],
      ["chat", "completion", "tools"],
    ]);
    expect(parse("vllm", { data: [{ id: "Qwen/Qwen2-VL-7B-Instruct" }, { id: "devlin-7b" }] })).toEqual([
      {
        name: "Qwen/Qwen2-VL-7B-Instruct",
        publisher: "Qwen",
        capabilities: ["chat", "completion", "vision"],
      },
      { name: "devlin-7b", capabilities: ["chat", "completion"] },
    ]);
  });

  test("an Ollama /api/ps body gives the loaded names; entries without one are skipped", () => {
    const body = {
      models: [
        {
          name: "llama3.2:latest",
          model: "llama3.2:latest",
          size_vram: 1,
          expires_at: "2025-10-01T10:05:00Z",
        },
        { model: "qwen3:4b" },
        { size_vram: 5 },
        null,
      ],
    };
    expect(parseOllamaLoaded(body)).toEqual(new Set(["llama3.2:latest", "qwen3:4b"]));
    expect(parseOllamaLoaded({ models: [] }).size).toBe(0);
  });
});
