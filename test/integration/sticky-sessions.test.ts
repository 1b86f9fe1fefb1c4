// Sticky sessions end to end: real olla, real fake OpenAI-compatible servers on 127.0.0.1, the
// round_robin balancer (which, without a pin, sends each request somewhere else).

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { type FakeUpstream, startFakeUpstream, until } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";

const MODEL = "gpt-4o-mini";

interface Served {
  endpoint: string | null;
  sticky: string | null;
  source: string | null;
  session: string | null;
  status: number;
}

async function chat(
  olla: TestOlla,
  messages: { role: string; content: string }[],
  headers: Record<string, string> = {},
  path = "/olla/v1/chat/completions",
): Promise<Served> {
  const response = await fetch(`${olla.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: MODEL, messages }),
    signal: AbortSignal.timeout(10_000),
  });
  await response.text();
  return {
    endpoint: response.headers.get("x-olla-endpoint"),
    sticky: response.headers.get("x-olla-sticky-session"),
    source: response.headers.get("x-olla-sticky-key-source"),
    session: response.headers.get("x-olla-session-id"),
    status: response.status,
  };
}

const hello = [{ role: "user", content: "hello" }];
const session = (id: string) => ({ "x-olla-session-id": id });

async function stickyStats(olla: TestOlla): Promise<Record<string, unknown>> {
  const response = await fetch(`${olla.url}/internal/stats/sticky`, { signal: AbortSignal.timeout(5_000) });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, unknown>;
}

describe("sticky sessions on", () => {
  const fakes: FakeUpstream[] = [];
  let olla: TestOlla;
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) fakes.push(await startFakeUpstream({ kind: "openai", chunks: 2 }));
    // A vLLM server with the same model: in /olla/v1's candidates, alone in /olla/vllm's.
    fakes.push(await startFakeUpstream({ kind: "vllm", chunks: 2, models: [MODEL] }));
    olla = await startTestOlla(
      `proxy:\n  load_balancer: round_robin\n  sticky_sessions:\n    enabled: true\n    idle_ttl_seconds: 300\n    max_sessions: 500\n${endpointsYaml(
        [
          { name: "a", url: fakes[0]!.url, type: "openai" },
          { name: "b", url: fakes[1]!.url, type: "openai" },
          { name: "c", url: fakes[2]!.url, type: "openai" },
          { name: "v", url: fakes[3]!.url, type: "vllm" },
        ],
      )}`,
    );
  });
  afterAll(async () => {
    await olla.stop();
    for (const fake of fakes) await fake.stop();
  });

  test("one X-Olla-Session-ID keeps going to one endpoint: a miss, then hits", async () => {
    const id = `alpha-${crypto.randomUUID()}`;
    const served: Served[] = [];
    for (let i = 0; i < 8; i++) served.push(await chat(olla, hello, session(id)));
    expect(served.every((one) => one.status === 200)).toBe(true);
    expect(new Set(served.map((one) => one.endpoint)).size).toBe(1);
    expect(served.map((one) => one.sticky)).toEqual(["miss", ...Array(7).fill("hit")]);
    expect(served.every((one) => one.source === "session_header" && one.session === id)).toBe(true);
  });

  test("new sessions are balanced as usual: round_robin spreads them, and each then sticks", async () => {
    const ids = Array.from({ length: 4 }, (_, i) => `spread-${i}-${crypto.randomUUID()}`);
    const first: (string | null)[] = [];
    for (const id of ids) first.push((await chat(olla, hello, session(id))).endpoint);
    // Four new sessions in a row over four candidates: each on another endpoint.
    expect(new Set(first).size).toBe(4);
    // Asked again in reverse order: where the rotation alone would send each one elsewhere.
    for (let round = 0; round < 2; round++) {
      for (const [index, id] of [...ids.entries()].reverse()) {
        const again = await chat(olla, hello, session(id));
        expect(again).toMatchObject({ endpoint: first[index], sticky: "hit" });
      }
    }
  });

  test("prefix_hash keeps a growing conversation (the same first messages) on one endpoint", async () => {
    const system = {
      role: "system",
      content: `You are agent ${crypto.randomUUID()}. ${"Be careful. ".repeat(50)}`,
    };
    const conversation = [system, { role: "user", content: "first question" }];
    const served: Served[] = [];
    for (let turn = 0; turn < 6; turn++) {
      served.push(await chat(olla, conversation));
      conversation.push(
        { role: "assistant", content: `answer ${turn}` },
        { role: "user", content: `more ${turn}` },
      );
    }
    expect(new Set(served.map((one) => one.endpoint)).size).toBe(1);
    expect(served.map((one) => one.sticky)).toEqual(["miss", ...Array(5).fill("hit")]);
    expect(served.every((one) => one.source === "prefix_hash" && one.session === null)).toBe(true);
    // Another conversation is a session of its own.
    const other = await chat(olla, [{ role: "system", content: `Other ${crypto.randomUUID()}` }]);
    expect(other).toMatchObject({ sticky: "miss", source: "prefix_hash" });
  });

  test("a key is per model: the same session asking another model is another pin", async () => {
    const id = `models-${crypto.randomUUID()}`;
    const first = await chat(olla, hello, session(id));
    const response = await fetch(`${olla.url}/olla/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", ...session(id) },
      body: JSON.stringify({ model: "text-embedding-3-small", input: "x" }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get("x-olla-sticky-session")).toBe("miss");
    expect((await chat(olla, hello, session(id))).sticky).toBe("hit");
    expect(first.sticky).toBe("miss");
  });

  test("the route's scope comes first: a pin outside it is moved, and then held where it is allowed", async () => {
    // A session pinned to one of the OpenAI servers...
    let id = "";
    let pinned: Served | undefined;
    for (let i = 0; i < 8 && pinned?.endpoint !== "a"; i++) {
      id = `scope-${i}-${crypto.randomUUID()}`;
      pinned = await chat(olla, hello, session(id));
    }
    expect(pinned!.endpoint).toBe("a");
    // ... asked through /olla/vllm/: only v may answer, so the pin moves there.
    const scoped = await chat(olla, hello, session(id), "/olla/vllm/v1/chat/completions");
    expect(scoped).toMatchObject({ endpoint: "v", sticky: "repin" });
    // v is among /olla/v1's candidates too: the session now stays there.
    expect(await chat(olla, hello, session(id))).toMatchObject({ endpoint: "v", sticky: "hit" });
  });

  test("the official openai client sends its session with defaultHeaders and sticks", async () => {
    const id = `sdk-${crypto.randomUUID()}`;
    const client = new OpenAI({
      baseURL: `${olla.url}/olla/v1`,
      apiKey: "unused",
      maxRetries: 0,
      timeout: 10_000,
      defaultHeaders: { "X-Olla-Session-ID": id },
    });
    const endpoints: (string | null)[] = [];
    const outcomes: (string | null)[] = [];
    for (let i = 0; i < 4; i++) {
      const { data, response } = await client.chat.completions
        .create({ model: MODEL, messages: [{ role: "user", content: `turn ${i}` }] })
        .withResponse();
      expect(data.choices[0]!.message.content).toBeTruthy();
      endpoints.push(response.headers.get("x-olla-endpoint"));
      outcomes.push(response.headers.get("x-olla-sticky-session"));
    }
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "streamed" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text.length).toBeGreaterThan(0);
    expect(new Set(endpoints).size).toBe(1);
    expect(outcomes).toEqual(["miss", "hit", "hit", "hit"]);
  });

  test("/internal/stats/sticky counts sessions, hits and misses; the access log has sticky_outcome", async () => {
    const before = await stickyStats(olla);
    const id = `stats-${crypto.randomUUID()}`;
    for (let i = 0; i < 3; i++) await chat(olla, hello, session(id));
    const after = await stickyStats(olla);
    expect(after).toEqual({
      enabled: true,
      active_sessions: (before.active_sessions as number) + 1,
      insertions: (before.insertions as number) + 1,
      hits: (before.hits as number) + 2,
      misses: (before.misses as number) + 1,
      evictions: 0,
      max_sessions: 500,
      idle_ttl_seconds: 300,
    });
    await until(
      () =>
        olla.logs.filter((line) => line.msg === "request" && line.sticky_outcome !== undefined).length >= 3,
      5_000,
      "access log lines with sticky_outcome",
    );
    const outcomes = olla.logs.filter((line) => line.msg === "request").map((line) => line.sticky_outcome);
    expect(outcomes).toContain("hit");
    expect(outcomes).toContain("miss");
  });

  test("no source gives a key: the balancer picks, and the answer says disabled", async () => {
    // The default sources (session_header, prefix_hash, auth_header): this request has none of them.
    const response = await fetch(`${olla.url}/olla/proxy/v1/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, max_tokens: 3 }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.text();
    expect(response.headers.get("x-olla-endpoint")).not.toBeNull();
    expect(response.headers.get("x-olla-sticky-session")).toBe("disabled");
    expect(response.headers.has("x-olla-sticky-key-source")).toBe(false);
  });
});

describe("a pinned endpoint that goes down", () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  let olla: TestOlla;
  beforeAll(async () => {
    a = await startFakeUpstream({ kind: "openai", chunks: 2 });
    b = await startFakeUpstream({ kind: "openai", chunks: 2 });
    // Probes far apart: the proxy finds the endpoint down itself, in the middle of a request.
    const endpoint = (name: string, url: string) =>
      `      - name: ${name}\n        url: ${url}\n        type: openai\n        check_interval: 60s\n        check_timeout: 1s\n`;
    olla = await startTestOlla(
      `proxy:\n  load_balancer: round_robin\n  sticky_sessions:\n    enabled: true\n    key_sources: [session_header]\n` +
        `discovery:\n  static:\n    endpoints:\n${endpoint("a", a.url)}${endpoint("b", b.url)}`,
    );
  });
  afterAll(async () => {
    await olla.stop();
    await a.stop();
    await b.stop();
  });

  test("its sessions move to another endpoint (repin), and its pins are purged", async () => {
    // Three sessions over two endpoints: two of them share one.
    const pins = new Map<string, string>();
    for (let i = 0; i < 3; i++) {
      const id = `down-${i}`;
      const served = await chat(olla, hello, session(id));
      expect(served.sticky).toBe("miss");
      pins.set(id, served.endpoint!);
    }
    const shared = pins.get("down-0")!;
    expect(pins.get("down-2")).toBe(shared);
    const other = shared === "a" ? "b" : "a";
    expect(await stickyStats(olla)).toMatchObject({ active_sessions: 3, insertions: 3, evictions: 0 });

    await (shared === "a" ? a : b).stop();
    // The pinned endpoint refuses: the request fails over and the session is pinned where it was answered.
    expect(await chat(olla, hello, session("down-0"))).toMatchObject({
      status: 200,
      endpoint: other,
      sticky: "repin",
    });
    // Both pins to the dead endpoint went with it (down-0's was set again, on the endpoint that answered).
    expect(await stickyStats(olla)).toMatchObject({ active_sessions: 2, insertions: 4, evictions: 2 });
    expect(olla.logs.some((line) => line.msg === "sticky sessions purged" && line.sessions === 2)).toBe(true);
    // down-2 has no pin left: a new one, with no failed try first.
    expect(await chat(olla, hello, session("down-2"))).toMatchObject({ endpoint: other, sticky: "miss" });
    expect(await chat(olla, hello, session("down-0"))).toMatchObject({ endpoint: other, sticky: "hit" });
    expect(await chat(olla, hello, session("down-1"))).toMatchObject({ endpoint: other, sticky: "hit" });
  });
});

describe("sticky sessions off (the default)", () => {
  let a: FakeUpstream;
  let b: FakeUpstream;
  let olla: TestOlla;
  beforeAll(async () => {
    a = await startFakeUpstream({ kind: "openai", chunks: 2 });
    b = await startFakeUpstream({ kind: "openai", chunks: 2 });
    olla = await startTestOlla(
      `proxy:\n  load_balancer: round_robin\n${endpointsYaml([
        { name: "a", url: a.url, type: "openai" },
        { name: "b", url: b.url, type: "openai" },
      ])}`,
    );
  });
  afterAll(async () => {
    await olla.stop();
    await a.stop();
    await b.stop();
  });

  test("no sticky headers, each request balanced on its own, and stats say disabled", async () => {
    const served: Served[] = [];
    for (let i = 0; i < 4; i++) served.push(await chat(olla, hello, session("same")));
    expect(served.map((one) => one.endpoint)).toEqual(["a", "b", "a", "b"]);
    for (const one of served) expect([one.sticky, one.source, one.session]).toEqual([null, null, null]);
    expect(await stickyStats(olla)).toEqual({ enabled: false });
    await until(
      () => olla.logs.filter((line) => line.msg === "request").length >= 4,
      5_000,
      "access log lines",
    );
    expect(olla.logs.some((line) => "sticky_outcome" in line)).toBe(false);
  });
});
