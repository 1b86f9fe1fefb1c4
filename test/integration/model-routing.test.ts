// Model-aware routing end to end: requests go to endpoints that have the model, loaded ones first;
// misses follow the strategy; decisions are explained in X-Olla-Routing-* headers.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

let big: FakeUpstream;
let small: FakeUpstream;
let vllm: FakeUpstream;
let olla: TestOlla;

beforeAll(async () => {
  big = await startFakeUpstream({
    kind: "ollama",
    models: [{ id: "llama3.2:latest", loaded: false }, { id: "qwen3:4b" }],
  });
  small = await startFakeUpstream({ kind: "ollama", models: ["llama3.2:latest", "mistral:latest"] });
  vllm = await startFakeUpstream({ kind: "vllm" });
  olla = await startTestOlla(
    `model_aliases:\n  fast: [mistral:latest, gemma3:1b]\n${endpointsYaml([
      { name: "big", url: big.url, type: "ollama", priority: 100 },
      { name: "small", url: small.url, type: "ollama", priority: 10 },
      { name: "gpu", url: vllm.url, type: "vllm", priority: 50 },
    ])}`,
  );
});
afterAll(async () => {
  await olla.stop();
  for (const server of [big, small, vllm]) await server.stop();
});

const chat = (model: string, path = "/olla/api/chat") =>
  fetch(`${olla.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream: false }),
  });

describe("strict (the default)", () => {
  test("a model goes to the endpoint that has it, whatever its priority", async () => {
    const response = await chat("mistral:latest");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-endpoint")).toBe("small");
    expect(response.headers.get("x-olla-routing-strategy")).toBe("strict");
    expect(response.headers.get("x-olla-routing-decision")).toBe("routed");
    expect(response.headers.get("x-olla-routing-reason")).toBe("model_found");
  });

  test("where several have it, the one with it loaded wins over a higher priority", async () => {
    const response = await chat("llama3.2:latest");
    expect(response.headers.get("x-olla-endpoint")).toBe("small");
  });

  test("an HF-style model on vLLM through the OpenAI client", async () => {
    const client = new OpenAI({ baseURL: `${olla.url}/olla/v1`, apiKey: "x", maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: "meta-llama/Llama-3.2-3B-Instruct", messages: [{ role: "user", content: "x" }] })
      .withResponse();
    expect(response.headers.get("x-olla-endpoint")).toBe("gpu");
    expect(data.choices[0]!.message.content).toBeTruthy();
  });

  test("an unknown model is a 404 in the client's format, naming what is available", async () => {
    const ollamaStyle = await chat("phi4:latest");
    expect(ollamaStyle.status).toBe(404);
    const body = (await ollamaStyle.json()) as { error: string };
    expect(body.error).toContain("phi4:latest");
    expect(body.error).toContain("mistral:latest");
    expect(ollamaStyle.headers.get("x-olla-routing-decision")).toBe("rejected");
    // Nothing will change by waiting: no Retry-After.
    expect(ollamaStyle.headers.get("retry-after")).toBeNull();
    const openaiStyle = await chat("phi4:latest", "/olla/v1/chat/completions");
    expect(((await openaiStyle.json()) as { error: { code: string } }).error.code).toBe("model_not_found");
    const client = new Ollama({ host: `${olla.url}/olla` });
    const failure = await client.chat({ model: "phi4:latest", messages: [] }).catch((error: Error) => error);
    expect(String(failure)).toContain("phi4:latest");
  });

  test("a model only on an endpoint that is down is a 503", async () => {
    await big.stop();
    try {
      await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "big")!);
      const response = await chat("qwen3:4b");
      expect(response.status).toBe(503);
      expect(response.headers.get("x-olla-routing-reason")).toBe("model_unavailable");
      expect(response.headers.get("x-olla-routing-decision")).toBe("rejected");
      expect(response.headers.get("retry-after")).toBe("5");
    } finally {
      await big.restart();
      await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "big")!);
    }
  });

  test("an alias goes to an endpoint with one of its names, and the body says that name", async () => {
    small.clearRequests();
    const response = await chat("fast");
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-endpoint")).toBe("small");
    expect(response.headers.get("x-olla-model")).toBe("fast");
    expect(response.headers.get("x-olla-routing-reason")).toBe("alias_resolved");
    const sent = JSON.parse(small.requests.at(-1)!.body);
    expect(sent.model).toBe("mistral:latest");
    expect(sent.messages).toEqual([{ role: "user", content: "hi" }]);
  });

  test("a name in another case is sent as the endpoint spells it", async () => {
    small.clearRequests();
    const response = await chat("Mistral:Latest");
    expect(response.status).toBe(200);
    expect(JSON.parse(small.requests.at(-1)!.body).model).toBe("mistral:latest");
  });

  test("the README's curl example: a form-typed JSON body and an untagged name are routed by model", async () => {
    small.clearRequests();
    // What `curl .../olla/api/chat -d '{"model":"llama3.2",...}'` sends.
    const response = await fetch(`${olla.url}/olla/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: '{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-routing-reason")).toBe("model_found");
    expect(response.headers.get("x-olla-endpoint")).toBe("small");
    expect(JSON.parse(small.requests.at(-1)!.body).model).toBe("llama3.2:latest");
  });

  test("/olla/api/show is answered by the endpoint that has the model (not 501)", async () => {
    const client = new Ollama({ host: `${olla.url}/olla` });
    const shown = await client.show({ model: "qwen3:4b" });
    expect(shown.details).toBeDefined();
    expect(big.requests.some((request) => request.path === "/api/show")).toBe(true);
  });

  test("pull, push, create, copy and delete are refused with 501, as in Olla, and reach no endpoint", async () => {
    for (const server of [big, small, vllm]) server.clearRequests();
    const client = new Ollama({ host: `${olla.url}/olla/ollama` });
    const refused = async (call: Promise<unknown>) => {
      const error = (await call.then(
        () => null,
        (thrown: unknown) => thrown,
      )) as { status_code?: number } | null;
      expect(error?.status_code).toBe(501);
    };
    await refused(client.pull({ model: "qwen3:4b", stream: false }));
    await refused(client.delete({ model: "qwen3:4b" }));
    await refused(client.copy({ source: "qwen3:4b", destination: "mine" }));
    await refused(client.push({ model: "qwen3:4b", stream: false }));
    for (const base of ["/olla", "/olla/proxy"]) {
      for (const operation of ["create", "pull"]) {
        const response = await fetch(`${olla.url}${base}/api/${operation}`, {
          method: "POST",
          body: '{"model":"x"}',
        });
        expect(response.status).toBe(501);
        expect(((await response.json()) as { error: string }).error).toContain("not supported by the proxy");
      }
    }
    const paths = [big, small, vllm].flatMap((server) => server.requests.map((request) => request.path));
    expect(paths.filter((path) => /\/api\/(pull|push|create|copy|delete)$/.test(path))).toEqual([]);
  });

  test("requests without a model are not filtered", async () => {
    const response = await fetch(`${olla.url}/olla/api/tags`);
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-routing-strategy")).toBeNull();
  });
});

describe("other strategies", () => {
  test("optimistic with fallback all sends an unknown model somewhere", async () => {
    const optimistic = await startTestOlla(
      `model_registry:\n  routing_strategy:\n    type: optimistic\n    options:\n      fallback_behavior: all\n${endpointsYaml(
        [{ name: "small", url: small.url, type: "ollama" }],
      )}`,
    );
    try {
      const response = await fetch(`${optimistic.url}/olla/api/generate`, {
        method: "POST",
        body: JSON.stringify({ model: "not-listed", prompt: "x", stream: false }),
      });
      expect(response.headers.get("x-olla-endpoint")).toBe("small");
      expect(response.headers.get("x-olla-routing-decision")).toBe("fallback");
    } finally {
      await optimistic.stop();
    }
  });

  test("discovery: a model pulled after start is found by asking again on the miss", async () => {
    const fresh = await startFakeUpstream({ kind: "ollama", models: ["llama3.2:latest"] });
    const discovering = await startTestOlla(
      `model_registry:\n  routing_strategy:\n    type: discovery\n${endpointsYaml([
        { name: "fresh", url: fresh.url, type: "ollama" },
      ])}`,
    );
    try {
      fresh.set({ models: ["llama3.2:latest", "gemma3:1b"] });
      const response = await fetch(`${discovering.url}/olla/api/generate`, {
        method: "POST",
        body: JSON.stringify({ model: "gemma3:1b", prompt: "x", stream: false }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-olla-routing-decision")).toBe("routed");
    } finally {
      await discovering.stop();
      await fresh.stop();
    }
  });
});
