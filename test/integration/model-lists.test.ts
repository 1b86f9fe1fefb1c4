// Merged model lists, read with the official clients' list calls.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let first: FakeUpstream;
let second: FakeUpstream;
let vllm: FakeUpstream;
let olla: TestOlla;

beforeAll(async () => {
  first = await startFakeUpstream({ kind: "ollama", models: ["llama3.2:latest", "qwen3:4b"] });
  second = await startFakeUpstream({ kind: "ollama", models: ["llama3.2:latest", "mistral:latest"] });
  vllm = await startFakeUpstream({ kind: "vllm" });
  olla = await startTestOlla(
    endpointsYaml([
      { name: "first", url: first.url, type: "ollama" },
      { name: "second", url: second.url, type: "ollama" },
      { name: "gpu", url: vllm.url, type: "vllm" },
    ]),
  );
});
afterAll(async () => {
  await olla.stop();
  for (const server of [first, second, vllm]) await server.stop();
});

test("ollama list(): every Ollama endpoint's models, each once, with their details", async () => {
  const client = new Ollama({ host: `${olla.url}/olla` });
  const { models } = await client.list();
  expect(models.map((model) => model.name).sort()).toEqual(["llama3.2:latest", "mistral:latest", "qwen3:4b"]);
  const llama = models.find((model) => model.name === "llama3.2:latest")!;
  expect(llama.digest).toBeTruthy();
  expect(llama.details.quantization_level).toBeTruthy();
  const viaProvider = await new Ollama({ host: `${olla.url}/olla/ollama` }).list();
  expect(viaProvider.models).toHaveLength(3);
});

test("openai models.list(): the whole fleet; a provider route lists only its platform", async () => {
  const all = new OpenAI({ baseURL: `${olla.url}/olla/v1`, apiKey: "x", maxRetries: 0 });
  const ids: string[] = [];
  for await (const model of all.models.list()) ids.push(model.id);
  expect(ids.sort()).toEqual([
    "llama3.2:latest",
    "meta-llama/Llama-3.2-3B-Instruct",
    "mistral:latest",
    "qwen3:4b",
  ]);
  const onlyVllm = new OpenAI({ baseURL: `${olla.url}/olla/vllm/v1`, apiKey: "x", maxRetries: 0 });
  const vllmIds: string[] = [];
  for await (const model of onlyVllm.models.list()) vllmIds.push(model.id);
  expect(vllmIds).toEqual(["meta-llama/Llama-3.2-3B-Instruct"]);
  // As in Olla, the openai prefix is the generic OpenAI API: every platform that speaks it.
  const generic = new OpenAI({ baseURL: `${olla.url}/olla/openai/v1`, apiKey: "x", maxRetries: 0 });
  const genericIds: string[] = [];
  for await (const model of generic.models.list()) genericIds.push(model.id);
  expect(genericIds.sort()).toEqual(ids);
});

test("a provider's model list with no endpoint of that platform configured: 404, as its other routes", async () => {
  for (const path of [
    "/olla/sglang/v1/models",
    "/olla/lmstudio/api/v0/models",
    "/olla/lm-studio/api/v1/models",
  ]) {
    const response = await fetch(`${olla.url}${path}`);
    expect(response.status).toBe(404);
    expect(JSON.stringify(await response.json())).toContain("endpoints are configured");
  }
  // Configured ones answer, as before.
  expect((await fetch(`${olla.url}/olla/vllm/v1/models`)).status).toBe(200);
  expect((await fetch(`${olla.url}/olla/ollama/api/tags`)).status).toBe(200);
});

test("models of an endpoint that is down are not listed", async () => {
  await second.stop();
  try {
    await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "second")!);
    const { models } = await new Ollama({ host: `${olla.url}/olla` }).list();
    expect(models.map((model) => model.name).sort()).toEqual(["llama3.2:latest", "qwen3:4b"]);
  } finally {
    await second.restart();
    await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "second")!);
  }
});

test("/olla/models: one entry per model across endpoints, with where it lives", async () => {
  const unified = (await (await fetch(`${olla.url}/olla/models`)).json()) as {
    data: { id: string; olla: { availability: { endpoint: string }[]; type: string } }[];
  };
  const llama = unified.data.find((model) => model.id === "llama3.2:latest")!;
  expect(llama.olla.availability.map((place) => place.endpoint).sort()).toEqual(["first", "second"]);
  expect(unified.data.map((model) => model.id).sort()).toEqual([
    "llama3.2:latest",
    "meta-llama/Llama-3.2-3B-Instruct",
    "mistral:latest",
    "qwen3:4b",
  ]);
  const openai = (await (await fetch(`${olla.url}/olla/models?format=openai&endpoint=gpu`)).json()) as {
    data: { id: string }[];
  };
  expect(openai.data.map((model) => model.id)).toEqual(["meta-llama/Llama-3.2-3B-Instruct"]);
  const ollama = (await (await fetch(`${olla.url}/olla/models?format=ollama`)).json()) as {
    models: unknown[];
  };
  expect(ollama.models).toHaveLength(3);
  const bad = await fetch(`${olla.url}/olla/models?format=xml`);
  expect(bad.status).toBe(400);
  // Olla's per-platform formats: that platform's models, OpenAI-style, vLLM's max_model_len included.
  const vllmList = (await (await fetch(`${olla.url}/olla/models?format=vllm`)).json()) as {
    object: string;
    data: { id: string; max_model_len?: number }[];
  };
  expect(vllmList.object).toBe("list");
  expect(vllmList.data.map((model) => model.id)).toEqual(["meta-llama/Llama-3.2-3B-Instruct"]);
  expect(vllmList.data[0]!.max_model_len).toBeGreaterThan(0);
  const sglang = (await (await fetch(`${olla.url}/olla/models?format=sglang`)).json()) as { data: unknown[] };
  expect(sglang.data).toEqual([]);
});

test("/olla/models filters by capability (Olla's older names too) and by available; bad values are 400", async () => {
  const cold = await startFakeUpstream({
    kind: "ollama",
    models: [{ id: "warm:latest" }, { id: "cold:latest", loaded: false }, { id: "nomic-embed-text:latest" }],
  });
  const own = await startTestOlla(endpointsYaml([{ name: "box", url: cold.url, type: "ollama" }]));
  try {
    const ids = async (query: string) => {
      const response = await fetch(`${own.url}/olla/models?${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { data: { id: string }[] }).data.map((model) => model.id).sort();
    };
    expect(await ids("capability=embedding")).toEqual(["nomic-embed-text:latest"]);
    expect(await ids("capability=vector_search")).toEqual(["nomic-embed-text:latest"]);
    expect(await ids("capability=chat")).toEqual(["cold:latest", "warm:latest"]);
    expect(await ids("available=true")).toEqual(["nomic-embed-text:latest", "warm:latest"]);
    expect(await ids("available=false")).toEqual(["cold:latest"]);
    expect(await ids("available=true&type=llm")).toEqual(["warm:latest"]);
    for (const query of ["available=maybe", "type=robot"]) {
      expect((await fetch(`${own.url}/olla/models?${query}`)).status).toBe(400);
    }
  } finally {
    await own.stop();
    await cold.stop();
  }
});

test("/olla/models/{id} finds ids with a slash; /internal/status/models summarises", async () => {
  const found = await fetch(`${olla.url}/olla/models/meta-llama/Llama-3.2-3B-Instruct`);
  expect(found.status).toBe(200);
  expect(
    ((await found.json()) as { olla: { availability: { endpoint: string }[] } }).olla.availability[0]!
      .endpoint,
  ).toBe("gpu");
  expect((await fetch(`${olla.url}/olla/models/nope`)).status).toBe(404);
  // Broken percent-encoding is the client's mistake: 400, not a 500.
  const broken = await fetch(`${olla.url}/olla/models/%zz`);
  expect(broken.status).toBe(400);
  expect(((await broken.json()) as { error: { code: string } }).error.code).toBe("invalid_model_id");
  const summary = (await (await fetch(`${olla.url}/internal/status/models`)).json()) as {
    total_models: number;
    total_endpoints: number;
  };
  expect(summary).toMatchObject({ total_models: 4, total_endpoints: 3 });
});

test("/olla/api/ps lists loaded Ollama models; /olla/lmstudio/api/v0/models speaks LM Studio", async () => {
  const running = await new Ollama({ host: `${olla.url}/olla` }).ps();
  expect(running.models.map((model) => model.name).sort()).toEqual([
    "llama3.2:latest",
    "mistral:latest",
    "qwen3:4b",
  ]);
  const lm = await startFakeUpstream({ kind: "lmstudio" });
  const withLm = await startTestOlla(endpointsYaml([{ name: "lm", url: lm.url, type: "lm-studio" }]));
  try {
    const list = (await (await fetch(`${withLm.url}/olla/lmstudio/api/v0/models`)).json()) as {
      data: { id: string; state: string; type: string }[];
    };
    expect(list.data.find((model) => model.id === "qwen2.5-7b-instruct")).toMatchObject({
      state: "not-loaded",
      type: "llm",
    });
    expect(list.data.find((model) => model.id === "llama-3.2-3b-instruct")!.state).toBe("loaded");
    // LM Studio's newer path gets the OpenAI-style list, from the catalogue, not the endpoint.
    lm.clearRequests();
    const v1 = (await (await fetch(`${withLm.url}/olla/lm-studio/api/v1/models`)).json()) as {
      object: string;
      data: { id: string; object: string }[];
    };
    expect(v1.object).toBe("list");
    expect(v1.data.map((model) => model.id).sort()).toEqual(list.data.map((model) => model.id).sort());
    expect(lm.requests.some((request) => request.path === "/api/v1/models")).toBe(false);
  } finally {
    await withLm.stop();
    await lm.stop();
  }
});

test("a model known by another name elsewhere (same digest) is routed there, renamed", async () => {
  const a = await startFakeUpstream({
    kind: "ollama",
    models: [{ id: "llama3.2:latest", digest: "sha256:same" }],
  });
  const b = await startFakeUpstream({
    kind: "ollama",
    models: [{ id: "llama3.2:3b", digest: "sha256:same" }],
  });
  const fleet = await startTestOlla(
    endpointsYaml([
      { name: "a", url: a.url, type: "ollama" },
      { name: "b", url: b.url, type: "ollama" },
    ]),
  );
  try {
    await a.stop();
    await fleet.app.health.checkNow(fleet.app.endpoints.find((endpoint) => endpoint.name === "a")!);
    const response = await fetch(`${fleet.url}/olla/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-endpoint")).toBe("b");
    expect(response.headers.get("x-olla-routing-reason")).toBe("unified_id");
    expect(JSON.parse(b.requests.at(-1)!.body).model).toBe("llama3.2:3b");
  } finally {
    await fleet.stop();
    await b.stop();
  }
});
