// Model discovery against real fake servers: lists, filters, loaded state, failures that keep the
// last good list and retry with backoff (manual clock), refresh on demand.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isRoutable } from "../../../src/endpoints/index.ts";
import { createLogger } from "../../../src/log/index.ts";
import { createModelDiscovery } from "../../../src/models/discovery.ts";
import { testEndpoint } from "../../support/endpoints.ts";
import { type FakeUpstream, startFakeUpstream } from "../../support/index.ts";
import { manualClock } from "../../support/manual-clock.ts";

let ollama: FakeUpstream;
let lmstudio: FakeUpstream;
let vllm: FakeUpstream;
beforeAll(async () => {
  ollama = await startFakeUpstream({
    kind: "ollama",
    models: [{ id: "llama3.2:latest" }, { id: "qwen3:4b", loaded: false }, { id: "nomic-embed-text:latest" }],
  });
  lmstudio = await startFakeUpstream({ kind: "lmstudio" });
  vllm = await startFakeUpstream({ kind: "vllm" });
});
afterAll(async () => {
  for (const server of [ollama, lmstudio, vllm]) await server.stop();
});

const logs: Record<string, unknown>[] = [];
const logger = createLogger({ level: "debug", format: "json", write: (line) => logs.push(JSON.parse(line)) });

function discoveryFor(
  endpoints: ReturnType<typeof testEndpoint>[],
  clock = manualClock(),
  retry = { retryAttempts: 3, retryBackoffMs: 1000 },
) {
  return {
    clock,
    discovery: createModelDiscovery({
      endpoints,
      intervalMs: 60_000,
      timeoutMs: 2000,
      workers: 2,
      ...retry,
      logger,
      clock,
      isRoutable,
    }),
  };
}

describe("model discovery", () => {
  test("asks each routable endpoint with its platform's parser; Ollama's /api/ps marks loaded models", async () => {
    const endpoints = [
      testEndpoint({ name: "o", url: ollama.url, type: "ollama" }),
      testEndpoint({ name: "l", url: lmstudio.url, type: "lm-studio" }),
      testEndpoint({ name: "v", url: vllm.url, type: "vllm" }),
    ];
    const { discovery } = discoveryFor(endpoints);
    await discovery.start();
    const [o, l, v] = endpoints.map((endpoint) => discovery.modelsOf(endpoint));
    expect(o!.models.map((model) => model.name)).toEqual([
      "llama3.2:latest",
      "qwen3:4b",
      "nomic-embed-text:latest",
    ]);
    expect(o!.models.find((model) => model.name === "qwen3:4b")!.loaded).toBe(false);
    expect(o!.models.find((model) => model.name === "llama3.2:latest")!.loaded).toBe(true);
    expect(l!.models.map((model) => model.name)).toContain("qwen2.5-7b-instruct");
    expect(v!.models[0]).toMatchObject({ name: "meta-llama/Llama-3.2-3B-Instruct" });
    expect(v!.updatedAt).toBeDefined();
    expect(ollama.requests.map((request) => request.path)).toContain("/api/tags");
    discovery.stop();
  });

  test("model_filter include/exclude globs", async () => {
    const endpoint = testEndpoint({
      url: ollama.url,
      type: "ollama",
      model_filter: { include: ["*:latest", "qwen*"], exclude: ["nomic-*"] },
    });
    const { discovery } = discoveryFor([endpoint]);
    await discovery.start();
    expect(discovery.modelsOf(endpoint).models.map((model) => model.name)).toEqual([
      "llama3.2:latest",
      "qwen3:4b",
    ]);
    discovery.stop();
  });

  test("endpoints that take no traffic are not asked", async () => {
    const down = testEndpoint({ url: vllm.url, type: "vllm" }, { status: "offline" });
    vllm.clearRequests();
    const { discovery } = discoveryFor([down]);
    await discovery.start();
    expect(vllm.requests).toHaveLength(0);
    discovery.stop();
  });

  test("a failure keeps the last good list and retries sooner, backing off; success resets", async () => {
    const endpoint = testEndpoint({ name: "flaky", url: vllm.url, type: "vllm" });
    const { clock, discovery } = discoveryFor([endpoint]);
    await discovery.start();
    expect(discovery.modelsOf(endpoint).models).toHaveLength(1);
    vllm.set({ fail: { status: 500, paths: ["/v1/models"] } });
    vllm.clearRequests();
    await discovery.refresh(endpoint);
    expect(discovery.modelsOf(endpoint)).toMatchObject({ failures: 1, error: "HTTP 500 from /v1/models" });
    expect(discovery.modelsOf(endpoint).models).toHaveLength(1);
    const asked = () => vllm.requests.filter((request) => request.path === "/v1/models").length;
    expect(asked()).toBe(1);
    await clock.advance(1000);
    await Bun.sleep(50);
    expect(asked()).toBe(2);
    await clock.advance(1000);
    await Bun.sleep(50);
    expect(asked()).toBe(2);
    await clock.advance(1000);
    await Bun.sleep(50);
    expect(asked()).toBe(3);
    vllm.set({ fail: null });
    await discovery.refresh(endpoint);
    expect(discovery.modelsOf(endpoint)).toMatchObject({ failures: 0, error: undefined });
    discovery.stop();
  });

  /** Discovery of one vLLM endpoint whose model list fails (500), counting how often it is asked. */
  function failingList(name: string, retry: { retryAttempts: number; retryBackoffMs: number }) {
    const endpoint = testEndpoint({ name, url: vllm.url, type: "vllm" });
    const { clock, discovery } = discoveryFor([endpoint], manualClock(), retry);
    vllm.set({ fail: { status: 500, paths: ["/v1/models"] } });
    vllm.clearRequests();
    const asked = () => vllm.requests.filter((request) => request.path === "/v1/models").length;
    return {
      discovery,
      asked,
      /** The asks so far, once the clock has moved on `ms`. */
      async after(ms: number) {
        await clock.advance(ms);
        await Bun.sleep(50);
        return asked();
      },
      stop() {
        vllm.set({ fail: null });
        discovery.stop();
      },
    };
  }

  test("retry_attempts retries per run, from retry_backoff, doubling; the next run starts them again", async () => {
    const list = failingList("down-list", { retryAttempts: 2, retryBackoffMs: 500 });
    try {
      await list.discovery.start();
      expect(list.asked()).toBe(1);
      expect(await list.after(500)).toBe(2); // first retry: retry_backoff
      expect(await list.after(500)).toBe(2);
      expect(await list.after(500)).toBe(3); // second: twice as long
      expect(await list.after(10_000)).toBe(3); // retry_attempts used up until the next run
      expect(await list.after(60_000 - 11_500)).toBe(4); // the next run (interval 60 s)
      expect(await list.after(500)).toBe(5); // ... with its own retries
    } finally {
      list.stop();
    }
  });

  test("retry_attempts 0: a failed ask waits for the next run", async () => {
    const list = failingList("no-retry", { retryAttempts: 0, retryBackoffMs: 1000 });
    try {
      await list.discovery.start();
      expect(await list.after(30_000)).toBe(1);
    } finally {
      list.stop();
    }
  });

  test("no more than concurrent_workers endpoints are asked at once", async () => {
    const endpoints = Array.from({ length: 5 }, (_, i) =>
      testEndpoint({ name: `w${i}`, url: vllm.url, type: "vllm" }),
    );
    let running = 0;
    let peak = 0;
    const discovery = createModelDiscovery({
      endpoints,
      intervalMs: 60_000,
      timeoutMs: 2000,
      workers: 2,
      retryAttempts: 3,
      retryBackoffMs: 1000,
      logger,
      clock: manualClock(),
      isRoutable,
      fetcher: async (url, init) => {
        running++;
        peak = Math.max(peak, running);
        try {
          return await fetch(url, init);
        } finally {
          running--;
        }
      },
    });
    await discovery.start();
    expect(peak).toBe(2);
    expect(endpoints.every((endpoint) => discovery.modelsOf(endpoint).models.length === 1)).toBe(true);
    discovery.stop();
  });
});
