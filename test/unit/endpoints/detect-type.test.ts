// `type: auto` detection against fake servers that speak each platform's real wire format, plus the
// ways a probe can say nothing (refused, 404, hang, redirect).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type DetectOptions, detectPlatform } from "../../../src/endpoints/detect-type.ts";
import { PROFILES } from "../../../src/profiles/index.ts";
import { type FakeKind, type FakeUpstream, startFakeUpstream, withTimeout } from "../../support/index.ts";

const OPTIONS: DetectOptions = { headers: [], timeoutMs: 2_000, profiles: PROFILES };
const detect = (url: string, options: Partial<DetectOptions> = {}) =>
  withTimeout(detectPlatform(new URL(url), { ...OPTIONS, ...options }), 5_000, "detectPlatform");

const EXPECTED: Record<FakeKind, string> = {
  ollama: "ollama",
  lmstudio: "lm-studio",
  vllm: "vllm",
  llamacpp: "llamacpp",
  sglang: "sglang",
  openai: "openai-compatible",
};

const fakes = new Map<FakeKind, FakeUpstream>();
const servers: ReturnType<typeof Bun.serve>[] = [];
const fake = (kind: FakeKind) => fakes.get(kind)!;

/** A plain server on 127.0.0.1 for the cases no fake kind covers; stopped in afterAll. */
function serve(fetch: (req: Request) => Response | Promise<Response>) {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, development: false, fetch });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  for (const kind of Object.keys(EXPECTED) as FakeKind[]) fakes.set(kind, await startFakeUpstream({ kind }));
});
afterAll(async () => {
  for (const upstream of fakes.values()) await upstream.stop();
  for (const server of servers) await server.stop(true);
});

describe("each platform settles on its own profile", () => {
  for (const [kind, name] of Object.entries(EXPECTED) as [FakeKind, string][]) {
    test(`${kind} → ${name}`, async () => {
      const found = await detect(fake(kind).url);
      expect(found?.profile.name).toBe(name);
      expect(found?.evidence).toMatch(/^GET \//);
    });
  }

  test("llama-server seen only through /health and /props", async () => {
    const server = serve((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/health") return Response.json({ status: "ok" });
      if (path === "/props") return Response.json({ default_generation_settings: {}, total_slots: 1 });
      return new Response("not found", { status: 404 });
    });
    const found = await detect(server.url.href);
    expect(found?.profile.name).toBe("llamacpp");
    expect(found?.evidence).toContain("/props");
  });

  test("llama-server's /api/tags mirror of its model list is not taken for Ollama", async () => {
    // Real llama-server answers /api/tags with its /v1/models body; the fake does not, so graft it on.
    const llama = fake("llamacpp");
    const fetcher = (url: URL, init: RequestInit) =>
      url.pathname === "/api/tags" ? fetch(`${llama.url}/v1/models`, init) : fetch(url, init);
    expect((await detect(llama.url, { fetcher }))?.profile.name).toBe("llamacpp");
  });

  test("only the given profiles are considered", async () => {
    const profiles = PROFILES.filter((p) => p.name !== "ollama");
    // Ollama also serves an OpenAI list on /v1/models.
    expect((await detect(fake("ollama").url, { profiles }))?.profile.name).toBe("openai-compatible");
  });
});

describe("probe URLs and headers", () => {
  test("probes stay under the base URL's path", async () => {
    const ollama = fake("ollama");
    ollama.clearRequests();
    expect(await detect(`${ollama.url}/gpu0/`)).toBeUndefined();
    expect(ollama.requests.length).toBeGreaterThan(0);
    for (const request of ollama.requests) expect(request.path).toStartWith("/gpu0/");
  });

  test("a server mounted under a path prefix is detected there", async () => {
    const vllm = fake("vllm");
    const proxy = serve((req) => {
      const url = new URL(req.url);
      if (!url.pathname.startsWith("/gpu0/")) return new Response("not found", { status: 404 });
      return fetch(`${vllm.url}${url.pathname.slice("/gpu0".length)}`, {
        headers: req.headers,
        proxy: false,
      });
    });
    expect((await detect(new URL("gpu0", proxy.url).href))?.profile.name).toBe("vllm");
  });

  test("configured headers go with every probe", async () => {
    const openai = fake("openai");
    openai.clearRequests();
    const headers = [
      ["authorization", "Bearer sk-test"],
      ["x-team", "blue"],
    ] as const;
    expect((await detect(openai.url, { headers }))?.profile.name).toBe("openai-compatible");
    expect(openai.requests.map((r) => r.path)).toContain("/v1/models");
    for (const request of openai.requests) {
      expect(request.method).toBe("GET");
      expect(request.headers.authorization).toBe("Bearer sk-test");
      expect(request.headers["x-team"]).toBe("blue");
    }
  });
});

describe("nothing like an inference server → undefined", () => {
  test("a refused port, quickly", async () => {
    const closed = serve(() => new Response("bye"));
    const port = closed.port;
    await closed.stop(true);
    const started = performance.now();
    expect(await detect(`http://127.0.0.1:${port}`)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("404 everywhere", async () => {
    const server = serve(() => Response.json({ error: "not found" }, { status: 404 }));
    expect(await detect(server.url.href)).toBeUndefined();
  });

  test("the same web page on every path", async () => {
    const server = serve(
      () => new Response("<html>hello</html>", { headers: { "content-type": "text/html" } }),
    );
    expect(await detect(server.url.href)).toBeUndefined();
  });

  test("a hanging server, within about timeoutMs", async () => {
    const hanging = await startFakeUpstream({ kind: "ollama", hang: true });
    try {
      const started = performance.now();
      expect(await detect(hanging.url, { timeoutMs: 300 })).toBeUndefined();
      const elapsed = performance.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1_000);
    } finally {
      await hanging.stop();
    }
  });

  test("redirects are not followed", async () => {
    const ollama = fake("ollama");
    ollama.clearRequests();
    const server = serve((req) => Response.redirect(`${ollama.url}${new URL(req.url).pathname}`, 302));
    expect(await detect(server.url.href)).toBeUndefined();
    expect(ollama.requests).toHaveLength(0);
  });
});
