// The streaming proxy end to end, for both engines: real olla (in-process Bun.serve), real fake
// inference servers on 127.0.0.1, and the official openai and ollama clients users run.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import {
  collected,
  type FakeUpstream,
  readNdjson,
  readSse,
  replyTokens,
  startFakeUpstream,
  withTimeout,
  until,
} from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

describe.each(["olla", "sherpa"])("engine %s", (engine) => {
  let ollama: FakeUpstream;
  let vllm: FakeUpstream;
  let olla: TestOlla;
  let openai: OpenAI;

  beforeAll(async () => {
    ollama = await startFakeUpstream({ kind: "ollama", chunks: 5, chunkDelayMs: 20 });
    vllm = await startFakeUpstream({ kind: "vllm", chunks: 5, chunkDelayMs: 20 });
    olla = await startTestOlla(
      `proxy:\n  engine: ${engine}\n  response_header_timeout: 3s\nserver:\n  request_limits:\n    max_body_size: 64KB\n${endpointsYaml(
        [
          { name: "local-ollama", url: ollama.url, type: "ollama", priority: 100 },
          { name: "gpu-vllm", url: vllm.url, type: "vllm", priority: 50 },
        ],
      )}`,
    );
    openai = new OpenAI({ baseURL: `${olla.url}/olla/v1`, apiKey: "unused", maxRetries: 0, timeout: 10_000 });
  });
  afterAll(async () => {
    await olla.stop();
    await ollama.stop();
    await vllm.stop();
  });

  describe("with the official clients", () => {
    test("openai: chat completion, not streamed", async () => {
      const completion = await openai.chat.completions.create({
        model: "llama3.2:latest",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(completion.choices[0]!.message.content).toBe(replyTokens(5).join(""));
      expect(completion.usage?.completion_tokens).toBeGreaterThan(0);
    });

    test("openai: streamed chat arrives chunk by chunk, as sent", async () => {
      const stream = await openai.chat.completions.create({
        model: "llama3.2:latest",
        messages: [{ role: "user", content: "hi" }],
        stream: true,
      });
      const arrivals: number[] = [];
      let text = "";
      for await (const chunk of stream) {
        arrivals.push(performance.now());
        text += chunk.choices[0]?.delta?.content ?? "";
      }
      expect(text).toBe(replyTokens(5).join(""));
      // 20 ms between upstream frames: passed through, not buffered until the end.
      expect((arrivals.at(-1) as number) - (arrivals[0] as number)).toBeGreaterThan(60);
    });

    test("openai: embeddings and the model list", async () => {
      const embedding = await openai.embeddings.create({ model: "nomic-embed-text:latest", input: "hello" });
      expect(embedding.data[0]!.embedding.length).toBeGreaterThan(0);
      const models = await openai.models.list();
      expect(models.data.map((model) => model.id)).toContain("llama3.2:latest");
    });

    test("ollama: chat and generate, streamed and not", async () => {
      const client = new Ollama({ host: `${olla.url}/olla/ollama` });
      const chat = await client.chat({
        model: "llama3.2:latest",
        messages: [{ role: "user", content: "hi" }],
      });
      expect(chat.message.content).toBe(replyTokens(5).join(""));
      let streamed = "";
      let done = false;
      for await (const part of await client.generate({
        model: "llama3.2:latest",
        prompt: "hi",
        stream: true,
      })) {
        streamed += part.response;
        done ||= part.done;
      }
      expect(streamed).toBe(replyTokens(5).join(""));
      expect(done).toBe(true);
      const embedded = await client.embed({ model: "nomic-embed-text:latest", input: "x" });
      expect(embedded.embeddings[0]!.length).toBeGreaterThan(0);
      expect((await client.list()).models.map((model) => model.name)).toContain("llama3.2:latest");
    });
  });

  describe("routes", () => {
    test("/olla/<path> and /olla/proxy/<path> go to the best endpoint of any type", async () => {
      for (const prefix of ["/olla", "/olla/proxy"]) {
        const response = await fetch(`${olla.url}${prefix}/api/version`);
        expect(response.status).toBe(200);
        expect(response.headers.get("x-olla-endpoint")).toBe("local-ollama");
      }
    });

    test("/olla/<provider>/ only uses endpoints of that type", async () => {
      const response = await fetch(`${olla.url}/olla/vllm/version`);
      expect(response.headers.get("x-olla-endpoint")).toBe("gpu-vllm");
      expect(response.headers.get("x-olla-backend-type")).toBe("vllm");
      expect(vllm.requests.at(-1)!.path).toBe("/version");
    });

    test("/olla/openai/ takes any endpoint with an OpenAI API, as in Olla", async () => {
      const response = await fetch(`${olla.url}/olla/openai/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "meta-llama/Llama-3.2-3B-Instruct", messages: [] }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-olla-backend-type")).toBe("vllm");
      await response.arrayBuffer();
    });

    test("a type with no endpoints is a JSON 404 naming the type", async () => {
      const response = await fetch(`${olla.url}/olla/lmstudio/v1/chat/completions`, {
        method: "POST",
        body: "{}",
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: {
          message: "no lm-studio endpoints are configured",
          type: "not_found_error",
          code: "no_endpoints",
        },
      });
      const ollamaStyle = await fetch(`${olla.url}/olla/sglang/api/tags`);
      expect(await ollamaStyle.json()).toEqual({ error: "no sglang endpoints are configured" });
    });

    test("method, query string and body pass through; the path cannot climb out", async () => {
      vllm.clearRequests();
      const response = await fetch(`${olla.url}/olla/vllm/v1/../v1/completions?trace=1`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "meta-llama/Llama-3.2-3B-Instruct", prompt: "x" }),
      });
      expect(response.status).toBe(200);
      const seen = vllm.requests.at(-1)!;
      expect(seen).toMatchObject({ method: "POST", path: "/v1/completions", query: "trace=1" });
      expect(JSON.parse(seen.body).prompt).toBe("x");
    });
  });

  describe("headers", () => {
    test("X-Olla-Request-ID exactly once on every kind of answer: streamed, whole, passed-through error, olla's own", async () => {
      const ask = (id: string, path: string, body: string) =>
        fetch(`${olla.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-request-id": id },
          body,
        });
      const chat = (stream: boolean) => JSON.stringify({ model: "llama3.2:latest", messages: [], stream });
      const answers = {
        "id-streamed": await ask("id-streamed", "/olla/api/chat", chat(true)),
        "id-whole": await ask("id-whole", "/olla/api/chat", chat(false)),
        "id-sse": await ask("id-sse", "/olla/v1/chat/completions", chat(true)),
        "id-upstream-404": await ask("id-upstream-404", "/olla/ollama/api/no-such-path", chat(false)),
        "id-bad-json": await ask("id-bad-json", "/olla/api/chat", "{not json"),
      };
      for (const [id, response] of Object.entries(answers)) {
        // A second copy would read "id, id".
        expect([id, response.headers.get("x-olla-request-id")]).toEqual([id, id]);
        await response.body?.cancel();
      }
      expect(answers["id-streamed"].status).toBe(200);
      expect(answers["id-upstream-404"].status).toBe(404);
      expect(answers["id-upstream-404"].headers.get("x-olla-endpoint")).toBe("local-ollama");
      expect(answers["id-bad-json"].status).toBe(400);
    });

    test("X-Olla-* headers on the answer; forwarding headers to the endpoint", async () => {
      ollama.clearRequests();
      const response = await fetch(`${olla.url}/olla/api/chat`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-request-id": "trace-abc",
          origin: "http://browser.example",
        },
        body: JSON.stringify({ model: "Llama3.2:Latest", messages: [], stream: false }),
      });
      expect(response.headers.get("x-olla-endpoint")).toBe("local-ollama");
      expect(response.headers.get("x-olla-backend-type")).toBe("ollama");
      expect(response.headers.get("x-olla-model")).toBe("Llama3.2:Latest");
      expect(response.headers.get("x-olla-request-id")).toBe("trace-abc");
      expect(response.headers.get("x-olla-response-time")).toMatch(/^\d+ms$/);
      expect(response.headers.get("via")).toStartWith("1.1 olla/");
      await response.body?.cancel();
      const seen = ollama.requests.at(-1)!;
      expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
      expect(seen.headers.host).toBe(new URL(ollama.url).host);
      expect(seen.headers.origin).toBeUndefined();
      expect(seen.headers["x-request-id"]).toBe("trace-abc");
    });
  });

  describe("limits", () => {
    test("a body over max_body_size is refused with 413 before any endpoint sees it", async () => {
      ollama.clearRequests();
      vllm.clearRequests();
      const response = await fetch(`${olla.url}/olla/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "x", prompt: "y".repeat(70 * 1024) }),
      });
      expect(response.status).toBe(413);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("request_too_large");
      expect(ollama.requests.length + vllm.requests.length).toBe(0);
    });

    test("a non-string model is a 400 in the client's format", async () => {
      const response = await fetch(`${olla.url}/olla/api/generate`, { method: "POST", body: '{"model": 7}' });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: '"model" must be a string' });
    });
  });

  describe("client goes away", () => {
    test("before the answer's headers: the endpoint sees the abort within 100 ms", async () => {
      ollama.clearRequests();
      ollama.set({ headerDelayMs: 2000 });
      try {
        const controller = new AbortController();
        const pending = fetch(`${olla.url}/olla/api/generate`, {
          method: "POST",
          body: JSON.stringify({ model: "llama3.2:latest", prompt: "x" }),
          signal: controller.signal,
        }).catch(() => "aborted");
        await until(() => ollama.requests.length > 0, 2000, "the request to arrive");
        const abortedAt = performance.now();
        controller.abort();
        await pending;
        await until(() => ollama.requests[0]!.aborted, 1000, "the upstream abort");
        expect(performance.now() - abortedAt).toBeLessThan(150);
      } finally {
        ollama.set({ headerDelayMs: 0 });
      }
    });

    test("mid-stream: the endpoint's stream is cancelled", async () => {
      ollama.clearRequests();
      ollama.set({ chunks: 200, chunkDelayMs: 10 });
      try {
        const controller = new AbortController();
        const response = await fetch(`${olla.url}/olla/api/generate`, {
          method: "POST",
          body: JSON.stringify({ model: "llama3.2:latest", prompt: "x" }),
          signal: controller.signal,
        });
        const reader = response.body!.getReader();
        await reader.read();
        const abortedAt = performance.now();
        controller.abort();
        await until(() => ollama.requests.at(-1)!.aborted, 1000, "the upstream abort");
        expect(performance.now() - abortedAt).toBeLessThan(150);
      } finally {
        ollama.set({ chunks: 5, chunkDelayMs: 20 });
      }
    });
  });

  describe("upstream dies mid-stream", () => {
    test("SSE: the client gets an error event, and the openai client throws", async () => {
      vllm.set({ dieMidStream: 3 });
      try {
        const response = await fetch(`${olla.url}/olla/vllm/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "meta-llama/Llama-3.2-3B-Instruct", messages: [], stream: true }),
        });
        const { events } = await readSse(response);
        expect(events.at(-1)!.event).toBe("error");
        expect(JSON.stringify(events.at(-1)!.json)).toContain("gpu-vllm");
        const client = new OpenAI({ baseURL: `${olla.url}/olla/vllm/v1`, apiKey: "x", maxRetries: 0 });
        const failure = await (async () => {
          const stream = await client.chat.completions.create({
            model: "meta-llama/Llama-3.2-3B-Instruct",
            messages: [{ role: "user", content: "x" }],
            stream: true,
          });
          for await (const _ of stream) {
            // drain
          }
          return "completed";
        })().catch((error: Error) => error);
        expect(failure).toBeInstanceOf(Error);
      } finally {
        vllm.set({ dieMidStream: null });
      }
    });

    test("NDJSON: the client gets a final error object, and the ollama client throws", async () => {
      ollama.set({ dieMidStream: 2 });
      try {
        const response = await fetch(`${olla.url}/olla/api/chat`, {
          method: "POST",
          body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] }),
        });
        const { objects } = await readNdjson(response);
        expect(objects.at(-1)!.value).toMatchObject({
          error: expect.stringContaining("local-ollama"),
          done: true,
        });
        const client = new Ollama({ host: `${olla.url}/olla/ollama` });
        const failure = await (async () => {
          const messages = [{ role: "user", content: "hi" }];
          for await (const _ of await client.chat({ model: "llama3.2:latest", messages, stream: true })) {
            // drain
          }
          return "completed";
        })().catch((error: Error) => error);
        expect(failure).toBeInstanceOf(Error);
      } finally {
        ollama.set({ dieMidStream: null });
      }
    });
  });
});

describe("failover", () => {
  let first: FakeUpstream;
  let second: FakeUpstream;
  let olla: TestOlla;

  beforeAll(async () => {
    first = await startFakeUpstream({ kind: "ollama" });
    second = await startFakeUpstream({ kind: "ollama" });
    olla = await startTestOlla(
      `proxy:\n  response_header_timeout: 500ms\n${endpointsYaml([
        { name: "first", url: first.url, type: "ollama", priority: 100 },
        { name: "second", url: second.url, type: "ollama", priority: 50 },
      ])}`,
    );
  });
  afterAll(async () => {
    await olla.stop();
    await first.stop();
    await second.stop();
  });

  const first_ = () => olla.app.endpoints.find((endpoint) => endpoint.name === "first")!;
  const generate = () =>
    fetch(`${olla.url}/olla/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
    });

  async function recover() {
    first.set({ dieMidStream: null, hang: false });
    if (!first.running) await first.restart();
    await olla.app.health.checkNow(first_());
    expect(first_().status).toBe("healthy");
  }

  test("refused: the request is served by the next endpoint, the first leaves rotation", async () => {
    await first.stop();
    const response = await generate();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-endpoint")).toBe("second");
    expect(first_().status).toBe("offline");
    // Out of rotation: the next request goes straight to the second.
    second.clearRequests();
    expect((await generate()).headers.get("x-olla-endpoint")).toBe("second");
    await recover();
    expect((await generate()).headers.get("x-olla-endpoint")).toBe("first");
  });

  test("reset before any byte: replayed on the next endpoint", async () => {
    first.set({ dieMidStream: 0 });
    const response = await generate();
    expect({ status: response.status, body: await response.text() }).toMatchObject({ status: 200 });
    expect(response.headers.get("x-olla-endpoint")).toBe("second");
    await recover();
  });

  test("header timeout: replayed on the next endpoint", async () => {
    first.set({ hang: ["/api/generate"] });
    const response = await withTimeout(generate(), 5000, "failover after header timeout");
    expect(response.headers.get("x-olla-endpoint")).toBe("second");
    await recover();
  });

  test("every endpoint failing is a 502 that lists what was tried", async () => {
    await first.stop();
    await second.stop();
    const response = await generate();
    expect(response.status).toBe(502);
    const body = (await response.json()) as { error: string; tried: { endpoint: string }[] };
    expect(body.tried.map((entry) => entry.endpoint).sort()).toEqual(["first", "second"]);
    await second.restart();
    await olla.app.health.checkNow(olla.app.endpoints.find((endpoint) => endpoint.name === "second")!);
    await recover();
  });

  // What waits with a request is held as long as its endpoint takes (minutes for a cold model load):
  // the body stays only while another endpoint is left to replay it on.
  test("a waiting request keeps its body for a replay, and lets it go on the last endpoint", async () => {
    // The bodies as each try hands them to the (real) upstream client: weakly, so only olla holds them.
    const upstream = olla.app.upstream;
    const send = upstream.send;
    const sent: WeakRef<object>[] = [];
    upstream.send = (req) => {
      if (req.body instanceof Uint8Array) sent.push(new WeakRef(req.body));
      return send.call(upstream, req);
    };
    first.set({ hang: ["/api/generate"] });
    second.set({ hang: ["/api/generate"] });
    let settled = false;
    const abort = new AbortController();
    const answer = fetch(`${olla.url}/olla/api/generate`, {
      method: "POST",
      body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
      signal: abort.signal,
    })
      .catch(() => undefined)
      .finally(() => {
        settled = true;
      });
    try {
      await until(() => first.counters.inFlight === 1, 2000, "the first endpoint has the request");
      // A few collections, well inside the first endpoint's header timeout (500 ms): no replay yet.
      expect(await collected(sent[0]!, 5)).toBe(false);
      expect(second.counters.inFlight).toBe(0);
      // The first endpoint's header timeout (500 ms): replayed on the second, the last one left.
      await until(() => second.counters.inFlight === 1, 2000, "the second endpoint has the replay");
      expect(sent.length).toBe(2);
      expect(await collected(sent[1]!)).toBe(true);
      // Still waiting on the second endpoint: the body went while the request was held, not with it.
      expect(settled).toBe(false);
    } finally {
      upstream.send = send;
      abort.abort();
      await answer;
      second.set({ hang: false });
      await recover();
    }
  });

  test("upstream HTTP errors pass through as they are", async () => {
    first.set({ fail: { status: 500, paths: ["/api/generate"], times: 1 } });
    const response = await generate();
    expect(response.status).toBe(500);
    expect(response.headers.get("x-olla-endpoint")).toBe("first");
  });
});

describe.each(["olla", "sherpa"])("compressed answers (engine %s)", (engine) => {
  test("a gzip body and its Content-Encoding reach the client untouched", async () => {
    const json = JSON.stringify({ models: [{ name: "llama3.2:latest" }], padding: "x".repeat(4096) });
    const gzipped = Bun.gzipSync(new TextEncoder().encode(json));
    const upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request) =>
        new URL(request.url).pathname === "/api/gzipped"
          ? new Response(gzipped, {
              headers: { "content-type": "application/json", "content-encoding": "gzip" },
            })
          : new Response("Ollama is running"),
    });
    const olla = await startTestOlla(
      `proxy:\n  engine: ${engine}\n${endpointsYaml([{ name: "zip", url: `http://127.0.0.1:${upstream.port}`, type: "ollama" }])}`,
    );
    try {
      const response = await fetch(`${olla.url}/olla/api/gzipped`, {
        headers: { "accept-encoding": "gzip" },
        decompress: false,
      } as RequestInit);
      expect(response.headers.get("content-encoding")).toBe("gzip");
      const raw = new Uint8Array(await response.arrayBuffer());
      expect(raw).toEqual(new Uint8Array(gzipped));
      expect(new TextDecoder().decode(Bun.gunzipSync(raw))).toBe(json);
    } finally {
      await olla.stop();
      upstream.stop(true);
    }
  });
});

describe.each(["olla", "sherpa"])("large request bodies (engine %s)", (engine) => {
  test("a 3 MB body streams through intact, and is replayed whole on failover", async () => {
    const down = await startFakeUpstream({ kind: "ollama" });
    const up = await startFakeUpstream({ kind: "ollama" });
    const olla = await startTestOlla(
      `proxy:\n  engine: ${engine}\n${endpointsYaml([
        { name: "down", url: down.url, type: "ollama", priority: 100 },
        { name: "up", url: up.url, type: "ollama", priority: 50 },
      ])}`,
    );
    try {
      await down.stop();
      const prompt = "lorem ipsum ".repeat(256 * 1024);
      const body = JSON.stringify({ model: "llama3.2:latest", prompt, stream: false });
      const response = await fetch(`${olla.url}/olla/api/generate`, { method: "POST", body });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-olla-endpoint")).toBe("up");
      expect(response.headers.get("x-olla-model")).toBe("llama3.2:latest");
      const seen = up.requests.find((request) => request.path === "/api/generate")!;
      expect(seen.body.length).toBe(body.length);
      expect(seen.body === body).toBe(true);
      expect(seen.headers["content-length"]).toBe(String(body.length));
    } finally {
      await olla.stop();
      await up.stop();
    }
  });
});

describe("circuit breaker", () => {
  test("an endpoint that passes probes but fails requests is kept out after the threshold", async () => {
    const flaky = await startFakeUpstream({ kind: "ollama", dieMidStream: 0 });
    const steady = await startFakeUpstream({ kind: "ollama" });
    const olla = await startTestOlla(
      `proxy:\n  circuit_breaker:\n    failure_threshold: 2\n    open_duration: 1h\n${endpointsYaml([
        { name: "flaky", url: flaky.url, type: "ollama", priority: 100 },
        { name: "steady", url: steady.url, type: "ollama", priority: 50 },
      ])}`,
    );
    const flakyEndpoint = olla.app.endpoints.find((endpoint) => endpoint.name === "flaky")!;
    const generate = () =>
      fetch(`${olla.url}/olla/api/generate`, {
        method: "POST",
        body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
      });
    const inferenceCalls = () => flaky.requests.filter((request) => request.path === "/api/generate").length;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        // Its health probe (GET /) still passes, so it comes back into rotation...
        await olla.app.health.checkNow(flakyEndpoint);
        expect(flakyEndpoint.status).toBe("healthy");
        expect((await generate()).headers.get("x-olla-endpoint")).toBe("steady");
      }
      expect(inferenceCalls()).toBe(2);
      expect(flakyEndpoint.breaker.state).toBe("open");
      // ...until the breaker opens: then it is skipped although its probe is fine.
      await olla.app.health.checkNow(flakyEndpoint);
      for (let i = 0; i < 3; i++) expect((await generate()).headers.get("x-olla-endpoint")).toBe("steady");
      expect(inferenceCalls()).toBe(2);
    } finally {
      await olla.stop();
      await flaky.stop();
      await steady.stop();
    }
  });
});

describe("response timeout", () => {
  test("a stream longer than proxy.response_timeout ends with an error event", async () => {
    const slow = await startFakeUpstream({ kind: "vllm", chunks: 50, chunkDelayMs: 40 });
    const olla = await startTestOlla(
      `proxy:\n  response_timeout: 400ms\n${endpointsYaml([{ name: "slow", url: slow.url, type: "vllm" }])}`,
    );
    try {
      const response = await fetch(`${olla.url}/olla/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "meta-llama/Llama-3.2-3B-Instruct", messages: [], stream: true }),
      });
      const { events } = await readSse(response);
      expect(events.length).toBeLessThan(40);
      expect(events.at(-1)!.event).toBe("error");
      expect(events.at(-1)!.data).toContain("400 ms");
      expect(events.at(-1)!.data).toContain("proxy.response_timeout");
    } finally {
      await olla.stop();
      await slow.stop();
    }
  });
});

describe.each(["olla", "sherpa"])("server.write_timeout (engine %s)", (engine) => {
  let slow: FakeUpstream;
  let late: FakeUpstream;
  let olla: TestOlla;
  beforeAll(async () => {
    slow = await startFakeUpstream({ kind: "vllm", chunks: 50, chunkDelayMs: 40 });
    late = await startFakeUpstream({ kind: "ollama", chunks: 2, headerDelayMs: 1500 });
    olla = await startTestOlla(
      `server:\n  write_timeout: 400ms\nproxy:\n  engine: ${engine}\n` +
        endpointsYaml([
          { name: "slow", url: slow.url, type: "vllm" },
          { name: "late", url: late.url, type: "ollama" },
        ]),
    );
  });
  afterAll(async () => {
    await olla.stop();
    await slow.stop();
    await late.stop();
  });
  const chat = (path: string, model: string, stream: boolean) =>
    fetch(`${olla.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream }),
    });

  test("a stream that runs past it ends with an error event naming the setting", async () => {
    const started = performance.now();
    const response = await chat("/olla/vllm/v1/chat/completions", "meta-llama/Llama-3.2-3B-Instruct", true);
    expect(response.status).toBe(200);
    const { events } = await readSse(response);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(events.length).toBeLessThan(40);
    expect(events.at(-1)!.event).toBe("error");
    expect(events.at(-1)!.data).toContain("server.write_timeout");
  });

  test("an endpoint that has not answered by then: 504 naming the setting, well before its headers", async () => {
    const started = performance.now();
    const response = await chat("/olla/ollama/api/chat", "llama3.2:latest", false);
    expect(response.status).toBe(504);
    expect(performance.now() - started).toBeLessThan(1200);
    const message = ((await response.json()) as { error: string }).error;
    expect(message).toContain("server.write_timeout");
    // What is left of the deadline, in whole milliseconds.
    expect(message).toMatch(/longer than \d+ ms/);
  });

  test("it runs from the request's arrival: a slow upload uses up part of it", async () => {
    // 300 ms of upload + 250 ms to the endpoint's headers: past 400 ms in all, though the endpoint alone
    // answers within it.
    late.set({ headerDelayMs: 250 });
    try {
      const text = JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "hi" }] });
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode(text.slice(0, 10)));
          await Bun.sleep(300);
          controller.enqueue(encoder.encode(text.slice(10)));
          controller.close();
        },
      });
      const response = await fetch(`${olla.url}/olla/ollama/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(504);
      expect(((await response.json()) as { error: string }).error).toContain("server.write_timeout");
    } finally {
      late.set({ headerDelayMs: 1500 });
    }
  });

  test("an answer complete within it is untouched", async () => {
    slow.set({ chunks: 3, chunkDelayMs: 20 });
    try {
      const response = await chat("/olla/vllm/v1/chat/completions", "meta-llama/Llama-3.2-3B-Instruct", true);
      const { events } = await readSse(response);
      expect(events.some((event) => event.event === "error")).toBe(false);
      expect(events.at(-1)!.data).toBe("[DONE]");
    } finally {
      slow.set({ chunks: 50, chunkDelayMs: 40 });
    }
  });
});

describe("quiet streams", () => {
  test("a 15 s silent wait (before headers and mid-stream) is not cut by Bun's idle timeout", async () => {
    // Two servers, so each request gets exactly one of the two silences.
    const beforeHeaders = await startFakeUpstream({ kind: "ollama", chunks: 2, headerDelayMs: 15_000 });
    const midStream = await startFakeUpstream({
      kind: "ollama",
      chunks: 2,
      quietGap: { afterFrames: 1, ms: 15_000 },
    });
    const olla = await startTestOlla(
      endpointsYaml([
        { name: "cold", url: beforeHeaders.url, type: "ollama" },
        { name: "pausing", url: midStream.url, type: "lm-studio" },
      ]),
    );
    try {
      const request = (prefix: string) =>
        fetch(`${olla.url}/olla/${prefix}/api/chat`, {
          method: "POST",
          body: JSON.stringify({ model: "llama3.2:latest", messages: [{ role: "user", content: "x" }] }),
        }).then((response) => readNdjson(response, { allowError: true }));
      const started = performance.now();
      const results = await Promise.all([request("ollama"), request("lmstudio")]);
      expect(performance.now() - started).toBeGreaterThan(14_900);
      for (const result of results) {
        expect(result.error).toBeNull();
        expect((result.objects.at(-1)!.value as { done: boolean }).done).toBe(true);
      }
    } finally {
      await olla.stop();
      await beforeHeaders.stop();
      await midStream.stop();
    }
  }, 30_000);
});
