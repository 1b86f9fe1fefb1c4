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
});

test("models of an endpoint that is down are not listed", async () => {
  await second.stop();
  try {
    await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "second")!);
    const { models } = await new Ollama({ host: `${olla.url}/olla` }).list();
    expect(models.map((model) => model.name).sort()).toEqual(["llama3.2:latest", "qwen3:4b"]);
  } finally {
    await second.restart();
  }
});
