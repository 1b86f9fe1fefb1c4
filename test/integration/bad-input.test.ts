// Bad input, one case per way a client can get it wrong: each gets a clear 4xx JSON error (in the
// client's API family) or a clean close, the endpoint sees nothing it should not, and olla stays up.
// Add a case here for every bug found.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { type FakeUpstream, startFakeUpstream } from "../support/index.ts";
import { endpointsYaml, startTestOlla, type TestOlla } from "../support/olla-app.ts";
import { watchedBodies } from "../../src/proxy/body-deadlines.ts";
import { jsonBody, rawConnect } from "../support/raw-http.ts";

let upstream: FakeUpstream;
let olla: TestOlla;

const chat = (body: string, path = "/olla/v1/chat/completions", headers: Record<string, string> = {}) =>
  fetch(`${olla.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

/** Requests the endpoint received for `path` since the last clear. */
const seen = (path: string) => upstream.requests.filter((request) => request.path === path).length;

async function healthy(): Promise<void> {
  const response = await fetch(`${olla.url}/internal/health`);
  expect(response.status).toBe(200);
}

beforeAll(async () => {
  upstream = await startFakeUpstream({ kind: "ollama", chunks: 20, chunkDelayMs: 20 });
  olla = await startTestOlla(
    `server:\n  read_timeout: 1s\n  rate_limits:\n    global_requests_per_minute: 0\n    per_ip_requests_per_minute: 0\n  request_limits:\n    max_body_size: 10MiB\n` +
      endpointsYaml([{ name: "box", url: upstream.url, type: "ollama" }]),
  );
});
afterAll(async () => {
  await olla.stop();
  await upstream.stop();
});

describe("malformed bodies never reach the endpoint", () => {
  test("broken JSON: 400 in the OpenAI envelope under /v1", async () => {
    upstream.clearRequests();
    const response = await chat('{"model": "llama3.2", "messages": [');
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe("invalid_json");
    expect(body.error.message).toContain("not valid JSON");
    expect(seen("/v1/chat/completions")).toBe(0);
  });

  test("broken JSON: 400 in the Ollama envelope under /api", async () => {
    upstream.clearRequests();
    const response = await chat('{"model": "llama3.2", "messages": [}', "/olla/api/chat");
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain("not valid JSON");
    expect(seen("/api/chat")).toBe(0);
  });

  test("broken after the model and stream were seen (trailing bytes, a bare word, a stray comma)", async () => {
    upstream.clearRequests();
    for (const body of [
      '{"model":"llama3.2","messages":[],"stream":false}garbage',
      '{"model":"llama3.2","stream":false,"messages":[],"temperature":nope}',
      '{"model":"llama3.2","stream":false,}',
    ]) {
      const response = await chat(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    }
    expect(seen("/v1/chat/completions")).toBe(0);
  });

  test("a body that is not an object at all", async () => {
    const response = await chat("[1, 2");
    expect(response.status).toBe(400);
  });

  test("model that is not a string: 400 naming the field", async () => {
    upstream.clearRequests();
    const response = await chat('{"model": 42, "messages": []}');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('"model"');
    expect(seen("/v1/chat/completions")).toBe(0);
  });

  test("valid JSON that is not an object, and an empty model: 400 saying so", async () => {
    upstream.clearRequests();
    for (const body of ['"just a string"', "null", "42"]) {
      const response = await chat(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
        "not a JSON object",
      );
    }
    const empty = await chat('{"model": "", "messages": []}');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { message: string } }).error.message).toBe(
      '"model" must not be empty',
    );
    expect(seen("/v1/chat/completions")).toBe(0);
  });

  test("invalid UTF-8 in the model name is answered, not crashed on", async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"model": "llama'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('", "messages": []}'),
    ]);
    const response = await fetch(`${olla.url}/olla/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes,
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get("content-type")).toContain("json");
    await healthy();
  });
});

describe("requests olla refuses", () => {
  test("a 1 MB header: 431, no endpoint contact", async () => {
    upstream.clearRequests();
    const connection = await rawConnect(olla.url);
    await connection.write(
      `POST /olla/api/chat HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(1024 * 1024)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const reply = await connection.reply();
    connection.close();
    // Bun answers 431 itself, or closes the connection; either way nothing goes upstream.
    if (reply.status !== undefined) expect(reply.status).toBe(431);
    else expect(reply.closed).toBe(true);
    expect(seen("/api/chat")).toBe(0);
    await healthy();
  });

  test("an unknown method: 405 JSON with Allow", async () => {
    const response = await fetch(`${olla.url}/internal/health`, { method: "DELETE" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toContain("GET");
    const brew = await rawConnect(olla.url);
    await brew.write("BREW /olla/api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    const reply = await brew.reply();
    brew.close();
    expect(reply.status === undefined ? reply.closed : reply.status >= 400 && reply.status < 500).toBe(true);
    await healthy();
  });

  test("%2e%2e is resolved like any URL: no dots reach the endpoint, nothing escapes olla's routes", async () => {
    upstream.clearRequests();
    // Raw requests: fetch would resolve the dots itself before sending.
    const send = async (path: string) => {
      const connection = await rawConnect(olla.url);
      await connection.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const reply = await connection.reply((text) => /\r\n\r\n[^]*[}\]]$/.test(text));
      connection.close();
      return reply;
    };
    // Resolves to /olla/api/version: forwarded, with a clean path.
    const inside = await send("/olla/v1/%2e%2e/api/version");
    expect(inside.status).toBe(200);
    // Resolves above /olla/ to a path olla does not serve: its own JSON 404, nothing forwarded.
    const above = await send("/olla/api/%2e%2e/%2E%2e/%2e%2e/etc/passwd");
    expect(above.status).toBe(404);
    expect(jsonBody(above.text)).toHaveProperty("error");
    expect(upstream.requests.map((request) => request.path)).toEqual(["/api/version"]);
  });

  // Bun gives such a request a relative request.url ("/path?query"), which new URL() rejects.
  test("no Host (HTTP/1.0) or a Host that is not a host: served, not a 500", async () => {
    upstream.clearRequests();
    const send = async (head: string) => {
      const connection = await rawConnect(olla.url);
      await connection.write(`${head}\r\n\r\n`);
      const reply = await connection.reply((text) => /\r\n\r\n[^]*[}\]]$/.test(text));
      connection.close();
      return reply;
    };
    const withoutHost = await send("GET /olla/api/version?probe=1#frag HTTP/1.0");
    expect(withoutHost.status).toBe(200);
    const odd = await send(
      "GET /olla/api/version?probe=2 HTTP/1.1\r\nHost: evil/olla?x#y\r\nConnection: close",
    );
    expect(odd.status).toBe(200);
    const health = await send("GET /internal/health HTTP/1.1\r\nHost: a b\r\nConnection: close");
    expect(health.status).toBe(200);
    const forwarded = upstream.requests.filter((request) => request.path === "/api/version");
    expect(forwarded.map((request) => request.query)).toEqual(["probe=1", "probe=2"]);
    // Without a Host, X-Forwarded-Host names the address the client reached.
    expect(forwarded[0]!.headers["x-forwarded-host"]).toBe(new URL(olla.url).host);
    expect(forwarded[1]!.headers["x-forwarded-host"]).toBe("evil/olla?x#y");
  });

  test("a chunked body past max_body_size is cut at the limit, 413, nothing upstream (100 MB sent)", async () => {
    upstream.clearRequests();
    const connection = await rawConnect(olla.url);
    await connection.write(
      "POST /olla/api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const mb = new Uint8Array(1024 * 1024).fill(0x20);
    const frame = new Uint8Array([...new TextEncoder().encode("100000\r\n"), ...mb, 0x0d, 0x0a]);
    let sent = 0;
    let reply = await connection.reply(undefined, 1);
    for (; sent < 100 && reply.status === undefined && !reply.closed; sent++) {
      if (!(await connection.write(frame))) break;
      reply = await connection.reply(undefined, 1);
    }
    if (reply.status === undefined) reply = await connection.reply();
    connection.close();
    expect(reply.status).toBe(413);
    // Cut near the 10 MiB limit, not after taking all 100 MB in.
    expect(sent).toBeLessThan(60);
    expect(seen("/api/chat")).toBe(0);
    await healthy();
  });
});

describe("slow clients are cut after server.read_timeout", () => {
  test("a body that stops half-way (Content-Length): 408 and the connection closes", async () => {
    upstream.clearRequests();
    const connection = await rawConnect(olla.url);
    const started = performance.now();
    await connection.write(
      'POST /olla/api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model": ',
    );
    const reply = await connection.reply((text) => text.includes("}"), 5000);
    // The rest of the body must not be read as a next request: olla closes the connection itself.
    const after = await connection.reply(() => false, 2000);
    connection.close();
    expect(reply.status).toBe(408);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(reply.text.toLowerCase()).toContain("connection: close");
    expect(after.closed).toBe(true);
    expect((jsonBody(reply.text) as { error: string }).error).toContain("read_timeout");
    expect(seen("/api/chat")).toBe(0);
    expect(watchedBodies()).toBe(0);
  });

  test("a body that arrives in two parts within server.read_timeout is served, its deadline let go", async () => {
    upstream.clearRequests();
    const connection = await rawConnect(olla.url);
    const body =
      '{"model": "llama3.2:latest", "messages": [{"role": "user", "content": "hi"}], "stream": false}';
    await connection.write(
      `POST /olla/api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await Bun.sleep(300);
    // Waiting for the rest: its deadline is on the list.
    expect(watchedBodies()).toBe(1);
    await connection.write(body.slice(10));
    const reply = await connection.reply((text) => text.includes('"done":true'), 5000);
    connection.close();
    expect(reply.status).toBe(200);
    expect(seen("/api/chat")).toBe(1);
    expect(watchedBodies()).toBe(0);
    // Past the deadline the request would have had: nothing expires late and cuts the connection.
    await Bun.sleep(900);
    await healthy();
  });

  test("a chunked body that trickles: 408", async () => {
    const connection = await rawConnect(olla.url);
    await connection.write(
      "POST /olla/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    // One byte every 300 ms keeps the socket busy but never finishes within 1 s.
    const trickle = setInterval(() => void connection.write("1\r\n \r\n"), 300);
    const reply = await connection.reply((text) => text.includes("}}"), 5000);
    clearInterval(trickle);
    const after = await connection.reply(() => false, 2000);
    connection.close();
    expect(reply.status).toBe(408);
    expect(after.closed).toBe(true);
    const error = (jsonBody(reply.text) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("request_timeout");
    expect(error.message).toMatch(/within \d+ ms \(server\.read_timeout\)/);
  });

  test("a large body streamed to the endpoint that stalls: 408, the endpoint is not blamed", async () => {
    const connection = await rawConnect(olla.url);
    const length = 2 * 1024 * 1024;
    await connection.write(
      `POST /olla/api/embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
    );
    const head = new TextEncoder().encode(`{"model": "llama3.2:latest", "input": "${" ".repeat(200_000)}`);
    await connection.write(head);
    const reply = await connection.reply((text) => text.includes("}"), 5000);
    connection.close();
    expect(reply.status).toBe(408);
    const endpoint = olla.app.endpoints[0]!;
    expect(endpoint.breaker.state).toBe("closed");
    await healthy();
  });
});

test("clients that never finish a request head are cut: Bun gives it 10 s, silent or trickling", async () => {
  const trickling = await rawConnect(olla.url);
  const silent = await rawConnect(olla.url);
  const started = performance.now();
  const head = `GET /olla/api/tags HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(200)}`;
  let sent = 0;
  // A byte every 500 ms: the connection is never idle, yet the head never completes.
  const trickle = setInterval(() => void trickling.write(head[sent++] ?? "a"), 500);
  const [trickled, quiet] = await Promise.all([
    trickling.reply(() => false, 20_000),
    silent.reply(() => false, 20_000),
  ]);
  clearInterval(trickle);
  trickling.close();
  silent.close();
  for (const reply of [trickled, quiet]) {
    expect(reply.closed).toBe(true);
    expect(reply.status).toBeUndefined();
  }
  expect(performance.now() - started).toBeLessThan(16_000);
  await healthy();
}, 25_000);

test("an idle keep-alive connection is closed after idle_timeout (0 = read_timeout, here 1 s)", async () => {
  const connection = await rawConnect(olla.url);
  await connection.write("GET /internal/health HTTP/1.1\r\nHost: x\r\n\r\n");
  const answered = await connection.reply((text) => text.includes("healthy"));
  expect(answered.status).toBe(200);
  const idleSince = performance.now();
  const reply = await connection.reply(() => false, 10_000);
  connection.close();
  expect(reply.closed).toBe(true);
  // Bun's timer moves in steps of about 4 s: 1 s becomes about 4.
  expect(performance.now() - idleSince).toBeLessThan(8_000);
}, 15_000);

describe("clients that leave at each stage", () => {
  const streamRequest = (model = "llama3.2:latest") =>
    `{"model": "${model}", "messages": [{"role": "user", "content": "hi"}], "stream": true}`;

  test("mid-headers, mid-body, waiting for the answer, mid-stream: olla stays up, streams are freed", async () => {
    const request = streamRequest();
    const head = `POST /olla/api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${request.length}\r\n\r\n`;
    const stages: ((connection: Awaited<ReturnType<typeof rawConnect>>) => Promise<void>)[] = [
      async (connection) => void (await connection.write(head.slice(0, 20))),
      async (connection) => void (await connection.write(head + request.slice(0, 10))),
      async (connection) => {
        upstream.set({ headerDelayMs: 300 });
        await connection.write(head + request);
        await Bun.sleep(50);
      },
      async (connection) => {
        upstream.set({ headerDelayMs: 0 });
        await connection.write(head + request);
        await connection.reply((text) => text.includes('"done":false'));
      },
    ];
    for (const stage of stages) {
      const connection = await rawConnect(olla.url);
      await stage(connection);
      connection.close();
    }
    upstream.set({ headerDelayMs: 0 });
    const deadline = performance.now() + 3000;
    while (upstream.counters.inFlight > 0 && performance.now() < deadline) await Bun.sleep(10);
    expect(upstream.counters.inFlight).toBe(0);
    expect(olla.app.endpoints[0]!.inFlight).toBe(0);
    await healthy();
  });
});

test("memory returns to its baseline after a storm of bad requests", async () => {
  const storm = async () => {
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          i % 2 === 0
            ? chat('{"model": [').then((response) => response.arrayBuffer())
            : chat('{"model": 1}', "/olla/api/chat").then((response) => response.arrayBuffer()),
        ),
      );
    }
  };
  await storm(); // warm up: code paths compiled, pools filled
  Bun.gc(true);
  const before = heapStats().heapSize;
  await storm();
  Bun.gc(true);
  const after = heapStats().heapSize;
  expect(after - before).toBeLessThan(8 * 1024 * 1024);
  await healthy();
});
