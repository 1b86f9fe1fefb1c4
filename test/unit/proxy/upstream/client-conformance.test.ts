// The upstream-client contract, run against both engines (olla: pooled Bun.connect, sherpa: fetch) with
// the same cases and one real Bun.serve upstream on 127.0.0.1.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createFetchClient } from "../../../../src/proxy/upstream/fetch-client.ts";
import { streamRequestBody } from "../../../../src/proxy/inspect.ts";
import { createPooledClient } from "../../../../src/proxy/upstream/pooled-client.ts";
import {
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamRequest,
} from "../../../../src/proxy/upstream/types.ts";
import { readAll, selfSignedCert, settle, waitFor, within } from "./raw-server.ts";

const MB = 1024 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * seed + (i >>> 10)) & 255;
  return out;
}
const sha256 = (data: Uint8Array) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

const BIG_DOWNLOAD = pattern(10 * MB, 31);
const BIG_UPLOAD = pattern(10 * MB, 17);
const GZIPPED = Bun.gzipSync(encoder.encode("hello gzip ".repeat(200)));

/** What /echo reports about the request it received. */
interface Echo {
  method: string;
  path: string;
  headers: Record<string, string>;
  length: number;
  sha: string;
}

/** Server-side observations, keyed by the `tag` query parameter each test sets. */
const started = new Set<string>();
/** Bytes of a streamed upload the server has read so far, by tag. */
const uploadProgress = new Map<string, number>();
const aborted = new Map<string, number>();

function noteAbort(tag: string) {
  if (!aborted.has(tag)) aborted.set(tag, performance.now());
}

/** Resolves when `signal` aborts (or after `ms`, so a broken case cannot hold the server forever). */
function untilAbort(signal: AbortSignal, ms = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const tag = url.searchParams.get("tag") ?? "";
  if (tag !== "") started.add(tag);
  req.signal.addEventListener("abort", () => noteAbort(tag));
  switch (url.pathname) {
    case "/echo": {
      const body = new Uint8Array(await req.arrayBuffer());
      return Response.json({
        method: req.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(req.headers),
        length: body.byteLength,
        sha: sha256(body),
      });
    }
    case "/status": {
      const headers = new Headers({ "content-type": "text/plain", "x-custom": "custom value" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; Path=/");
      return new Response("made", { status: 201, headers });
    }
    case "/sse": {
      const n = Number(url.searchParams.get("n"));
      const delay = Number(url.searchParams.get("delay"));
      let i = 0;
      const stream = new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            if (i > 0) await Bun.sleep(delay);
            controller.enqueue(encoder.encode(`data: {"i":${i}}\n\n`));
            if (++i === n) controller.close();
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(stream, { headers: { "content-type": "text/event-stream" } });
    }
    case "/gzip":
      return new Response(GZIPPED, { headers: { "content-type": "text/plain", "content-encoding": "gzip" } });
    case "/hang":
      await untilAbort(req.signal);
      return new Response("too late");
    case "/hang-body": {
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("first\n"));
          await untilAbort(req.signal);
          try {
            controller.close();
          } catch {}
        },
        cancel() {
          noteAbort(tag);
        },
      });
      return new Response(stream);
    }
    case "/die": {
      let step = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (step++ === 0) {
            controller.enqueue(encoder.encode("partial answer"));
            return;
          }
          await Bun.sleep(20);
          controller.error(new Error("upstream died"));
        },
      });
      return new Response(stream);
    }
    case "/stall": {
      // ?head=ms: the head comes that late.
      await Bun.sleep(Number(url.searchParams.get("head") ?? 0));
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("one"));
          await Promise.race([untilAbort(req.signal), Bun.sleep(3000)]);
          try {
            controller.close();
          } catch {}
        },
      });
      return new Response(stream);
    }
    case "/upload": {
      // Notes each piece as it arrives, so a test can tell a streamed upload from a buffered one.
      const parts: Uint8Array[] = [];
      for await (const part of req.body!) {
        parts.push(part);
        uploadProgress.set(tag, (uploadProgress.get(tag) ?? 0) + part.byteLength);
      }
      const all = new Uint8Array(await new Blob(parts).arrayBuffer());
      return Response.json({
        length: all.byteLength,
        sha: sha256(all),
        cl: req.headers.get("content-length"),
      });
    }
    case "/no-content":
      return new Response(null, { status: 204, headers: { "x-after": "204" } });
    case "/big":
      return new Response(BIG_DOWNLOAD, { headers: { "content-type": "application/octet-stream" } });
    default:
      return new Response("not found", { status: 404 });
  }
}

let server: ReturnType<typeof Bun.serve>;
let tlsServer: ReturnType<typeof Bun.serve> | null = null;
const cert = await selfSignedCert();
const tlsSkip = "skip" in cert ? cert.skip : null;
let refusedPort = 0;

beforeAll(() => {
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, development: false, fetch: handle });
  if (!("skip" in cert)) {
    tlsServer = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      development: false,
      tls: { key: cert.key, cert: cert.cert },
      fetch: handle,
    });
  }
  // A port that was just free: nothing listens there now.
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  refusedPort = probe.port;
  probe.stop(true);
});

afterAll(() => {
  server.stop(true);
  tlsServer?.stop(true);
  expect(sendBreaches).toEqual([]);
});

type Factory = (options?: Partial<UpstreamClientOptions>) => UpstreamClient;

/** Breaches of send()'s contract seen by viaSend: a hook called inside send(), or more than once. */
const sendBreaches: string[] = [];

/** The client with request() made of send() (the proxy's way): every case below checks send() too. */
function viaSend(client: UpstreamClient): UpstreamClient {
  return {
    ...client,
    request(original) {
      return new Promise<Response>((resolve, reject) => {
        let inside = true;
        let told = 0;
        const check = (hook: string) => {
          if (inside) sendBreaches.push(`${hook} called inside send()`);
          if (++told > 1) sendBreaches.push(`${hook} called after another hook`);
        };
        client.send({
          ...original,
          onResponse(response) {
            check("onResponse");
            resolve(response);
          },
          onFailure(error) {
            check("onFailure");
            reject(error);
          },
        });
        inside = false;
      });
    },
  };
}

const engines: [string, Factory][] = [
  ["olla", (options) => createPooledClient(options)],
  ["sherpa", (options) => createFetchClient(options)],
  ["olla send()", (options) => viaSend(createPooledClient(options))],
  ["sherpa send()", (options) => viaSend(createFetchClient(options))],
];

/** A request body a test feeds by hand, as a client's upload arriving piece by piece. */
function clientUpload(length: number) {
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const source = new ReadableStream<Uint8Array>({ start: (controller) => void (feed = controller) });
  const incoming = new Request("http://client.test/", {
    method: "POST",
    body: source,
    duplex: "half",
  } as RequestInit);
  return { feed, body: streamRequestBody(incoming, length) };
}

let tagCounter = 0;
const newTag = (name: string) => `${name}-${++tagCounter}`;

function req(path: string, init: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return {
    url: new URL(`http://127.0.0.1:${server.port}${path}`),
    method: "GET",
    headers: new Headers(),
    body: null,
    ...init,
  };
}

async function expectUpstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  const { error } = await settle(within(promise, 5000, "upstream request"));
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe.each(engines)("%s client conformance", (name, make) => {
  let client: UpstreamClient;
  beforeAll(() => {
    client = make();
  });
  afterAll(() => client.close());

  test("GET: status, body and request line reach the upstream", async () => {
    const res = await client.request(req("/echo?x=1&y=%20", { headers: new Headers({ "x-trace": "t1" }) }));
    expect(res.status).toBe(200);
    const seen = (await res.json()) as Echo;
    expect(seen.method).toBe("GET");
    expect(seen.path).toBe("/echo?x=1&y=%20");
    expect(seen.headers["x-trace"]).toBe("t1");
    expect(seen.headers.host).toBe(`127.0.0.1:${server.port}`);
    expect(seen.length).toBe(0);
  });

  test("`path` replaces the URL's path and query; one URL serves many paths, its credentials kept", async () => {
    const shared = new URL(`http://user:p%40ss@127.0.0.1:${server.port}/base/ignored?dropped=1`);
    for (const path of ["/echo?x=1", "/echo"]) {
      const res = await client.request(req("/", { url: shared, path }));
      const seen = (await res.json()) as Echo;
      expect(seen.path).toBe(path);
      expect(seen.headers.host).toBe(`127.0.0.1:${server.port}`);
      expect(seen.headers.authorization).toBe(`Basic ${btoa("user:p@ss")}`);
    }
    // A path starting "//" is a path, not "//host/...": the same server answers (Bun's fetch sends it as
    // "/echo", the pooled client as it is, which the upstream does not serve), no connect to "echo".
    const odd = await client.request(req("/", { url: shared, path: "//echo" }));
    expect([200, 404]).toContain(odd.status);
    await odd.arrayBuffer();
  });

  test("POST: the body arrives intact with its Content-Length", async () => {
    const body = encoder.encode(
      JSON.stringify({ model: "llama3", messages: [{ role: "user", content: "hi" }] }),
    );
    const res = await client.request(
      req("/echo", { method: "POST", body, headers: new Headers({ "content-type": "application/json" }) }),
    );
    const seen = (await res.json()) as Echo;
    expect(seen.method).toBe("POST");
    expect(seen.length).toBe(body.byteLength);
    expect(seen.sha).toBe(sha256(body));
    expect(seen.headers["content-length"]).toBe(String(body.byteLength));
    expect(seen.headers["content-type"]).toBe("application/json");
  });

  test("status, status text and headers pass through; Set-Cookie values stay distinct", async () => {
    const res = await client.request(req("/status"));
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Created");
    expect(res.headers.get("x-custom")).toBe("custom value");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(await res.text()).toBe("made");
  });

  test("SSE: N delayed events arrive as N separate reads, in order", async () => {
    const n = 5;
    const res = await client.request(req(`/sse?n=${n}&delay=40`));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reads = (await readAll(res.body)).map((chunk) => decoder.decode(chunk));
    expect(reads).toEqual(Array.from({ length: n }, (_, i) => `data: {"i":${i}}\n\n`));
  });

  test("gzip body passes through untouched, Content-Encoding kept", async () => {
    const res = await client.request(req("/gzip", { headers: new Headers({ "accept-encoding": "gzip" }) }));
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(sha256(bytes)).toBe(sha256(GZIPPED));
  });

  test("connection refused: kind connect, beforeResponse true", async () => {
    const err = await expectUpstreamError(
      client.request(req("/", { url: new URL(`http://127.0.0.1:${refusedPort}/`) })),
    );
    expect(err.kind).toBe("connect");
    expect(err.beforeResponse).toBe(true);
  });

  test("no headers in time: kind header_timeout, and the upstream sees the request go away", async () => {
    const quick = make({ responseHeaderTimeoutMs: 150 });
    try {
      const tag = newTag(name);
      const err = await expectUpstreamError(quick.request(req(`/hang?tag=${tag}`)));
      expect(err.kind).toBe("header_timeout");
      expect(err.beforeResponse).toBe(true);
      await waitFor(() => aborted.has(tag), 2000, "upstream abort after header timeout");
    } finally {
      quick.close();
    }
  });

  test("upstream dies mid-body: the body stream errors with UpstreamError, not a clean end", async () => {
    const res = await client.request(req("/die"));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await within(reader.read(), 2000, "first read");
    expect(decoder.decode(first.value)).toBe("partial answer");
    const { error } = await settle(
      within(
        (async () => {
          for (;;) if ((await reader.read()).done) return "clean end";
        })(),
        3000,
        "body end",
      ),
    );
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).kind).toBe("reset");
    expect((error as UpstreamError).beforeResponse).toBe(false);
  });

  test("quiet body longer than readTimeoutMs: the body errors with read_timeout", async () => {
    const quick = make({ readTimeoutMs: 150 });
    try {
      const res = await quick.request(req(`/stall?tag=${newTag(name)}`));
      const reader = res.body!.getReader();
      expect(decoder.decode((await within(reader.read(), 2000, "first read")).value)).toBe("one");
      const { error } = await settle(within(reader.read(), 2000, "second read"));
      expect(error).toBeInstanceOf(UpstreamError);
      expect((error as UpstreamError).kind).toBe("read_timeout");
      expect((error as UpstreamError).beforeResponse).toBe(false);
    } finally {
      quick.close();
    }
  });

  test("chunks closer together than readTimeoutMs keep a stream going well past it and the header timeout", async () => {
    // 8 events 60 ms apart: about 420 ms in all, over both limits, with no gap reaching either.
    const quick = make({ readTimeoutMs: 150, responseHeaderTimeoutMs: 100 });
    try {
      const started = performance.now();
      const res = await quick.request(req("/sse?n=8&delay=60"));
      const text = await within(res.text(), 3000, "body");
      expect(text.match(/data: /g)?.length).toBe(8);
      expect(performance.now() - started).toBeGreaterThan(300);
    } finally {
      quick.close();
    }
  });

  test("abort before headers reaches the upstream within 100 ms", async () => {
    const tag = newTag(name);
    const ac = new AbortController();
    const pending = client.request(req(`/hang?tag=${tag}`, { signal: ac.signal }));
    await waitFor(() => started.has(tag), 2000, "upstream to see the request");
    const t0 = performance.now();
    ac.abort();
    const err = await expectUpstreamError(pending);
    expect(err.kind).toBe("aborted");
    expect(err.beforeResponse).toBe(true);
    await waitFor(() => aborted.has(tag), 1000, "upstream abort");
    expect(aborted.get(tag)! - t0).toBeLessThan(100);
  });

  test("abort mid-body reaches the upstream within 100 ms and errors the body", async () => {
    const tag = newTag(name);
    const ac = new AbortController();
    const res = await client.request(req(`/hang-body?tag=${tag}`, { signal: ac.signal }));
    const reader = res.body!.getReader();
    expect(decoder.decode((await within(reader.read(), 2000, "first read")).value)).toBe("first\n");
    const t0 = performance.now();
    ac.abort();
    const { error } = await settle(within(reader.read(), 2000, "read after abort"));
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).kind).toBe("aborted");
    expect((error as UpstreamError).beforeResponse).toBe(false);
    await waitFor(() => aborted.has(tag), 1000, "upstream abort");
    expect(aborted.get(tag)! - t0).toBeLessThan(100);
  });

  test("an already aborted signal fails at once without contacting the upstream", async () => {
    const tag = newTag(name);
    const err = await expectUpstreamError(
      client.request(req(`/echo?tag=${tag}`, { signal: AbortSignal.abort() })),
    );
    expect(err.kind).toBe("aborted");
    await Bun.sleep(20);
    expect(started.has(tag)).toBe(false);
  });

  test("204 has no body", async () => {
    const res = await client.request(req("/no-content"));
    expect(res.status).toBe(204);
    expect(res.headers.get("x-after")).toBe("204");
    expect(await res.text()).toBe("");
  });

  test("HEAD has no body, and the next request on the client still works", async () => {
    const res = await client.request(req("/echo", { method: "HEAD" }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    const next = await client.request(req("/status"));
    expect(await next.text()).toBe("made");
  });

  test("10 MB request body arrives intact", async () => {
    const res = await client.request(req("/echo", { method: "POST", body: BIG_UPLOAD }));
    const seen = (await res.json()) as Echo;
    expect(seen.length).toBe(BIG_UPLOAD.byteLength);
    expect(seen.sha).toBe(sha256(BIG_UPLOAD));
  });

  test("10 MB response body arrives intact", async () => {
    const res = await client.request(req("/big"));
    const bytes = new Uint8Array(await within(res.arrayBuffer(), 10_000, "10 MB body"));
    expect(bytes.byteLength).toBe(BIG_DOWNLOAD.byteLength);
    expect(sha256(bytes)).toBe(sha256(BIG_DOWNLOAD));
  });

  test("onBodyEnd: told once per delivered answer, complete, failed or cancelled", async () => {
    const outcomes: string[] = [];
    const note = (label: string) => (outcome: string, error?: UpstreamError) =>
      outcomes.push(`${label}:${outcome}${error ? `:${error.kind}` : ""}`);
    await (await client.request(req("/sse?n=3&delay=1", { onBodyEnd: note("sse") }))).text();
    await (await client.request(req("/echo", { onBodyEnd: note("echo") }))).text();
    await client.request(req("/no-content", { onBodyEnd: note("204") }));
    const died = await client.request(req("/die", { onBodyEnd: note("die") }));
    await settle(died.text());
    const held = await client.request(req("/hang-body", { onBodyEnd: note("cancel") }));
    const reader = held.body!.getReader();
    await reader.read();
    await reader.cancel();
    await waitFor(() => outcomes.length === 5, 2000, "five outcomes");
    expect(outcomes.sort()).toEqual([
      "204:complete",
      "cancel:cancelled",
      "die:failed:reset",
      "echo:complete",
      "sse:complete",
    ]);
  });

  test("responseHeaders: called once with the endpoint's head; the Response carries what it returns", async () => {
    const calls: [string, string][][] = [];
    const shaped = {
      responseHeaders(headers: [string, string][]): [string, string][] {
        calls.push(headers);
        return [...headers.filter(([name]) => name.toLowerCase() !== "x-custom"), ["x-added", "yes"]];
      },
    };
    const res = await client.request(req("/status", shaped));
    expect(res.status).toBe(201);
    expect(res.headers.get("x-custom")).toBeNull();
    expect(res.headers.get("x-added")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(await res.text()).toBe("made");
    const none = await client.request(req("/no-content", shaped));
    expect(none.status).toBe(204);
    expect(none.headers.get("x-added")).toBe("yes");
    const streamed = await client.request(req("/sse?n=2&delay=1", shaped));
    expect(streamed.headers.get("x-added")).toBe("yes");
    expect(await within(streamed.text(), 3000, "body")).toContain("data:");
    expect(calls.length).toBe(3);
    expect(calls[0]!.find(([name]) => name.toLowerCase() === "x-custom")?.[1]).toBe("custom value");
  });

  test("failureTrailer: a body cut mid-way ends with the caller's bytes instead of an error", async () => {
    const seen: { kind: string; contentType: string | null; lastByte: number | undefined }[] = [];
    const res = await client.request(
      req("/die", {
        failureTrailer: (error, contentType, lastByte) => {
          seen.push({ kind: error.kind, contentType, lastByte });
          return encoder.encode("\n[cut]");
        },
      }),
    );
    expect(await within(res.text(), 3000, "body")).toBe("partial answer\n[cut]");
    expect(seen).toEqual([{ kind: "reset", contentType: null, lastByte: 0x72 }]);
  });

  test("deadlineMs: before the headers the request fails with kind response_timeout", async () => {
    const tag = newTag("deadline-head");
    const started = performance.now();
    const error = await expectUpstreamError(client.request(req(`/hang?tag=${tag}`, { deadlineMs: 150 })));
    expect(error.kind).toBe("response_timeout");
    expect(performance.now() - started).toBeLessThan(1500);
    await waitFor(() => aborted.has(tag), 2000, "upstream sees the deadline");
  });

  test("deadlineMs: mid-body the stream ends with the trailer (or errors without one)", async () => {
    const withTrailer = await client.request(
      req("/stall", {
        deadlineMs: 200,
        failureTrailer: (error) => encoder.encode(`[${error.kind}]`),
      }),
    );
    expect(await within(withTrailer.text(), 3000, "body")).toBe("one[response_timeout]");
    const bare = await client.request(req("/stall", { deadlineMs: 200 }));
    const { error } = await settle(within(bare.text(), 3000, "body"));
    expect((error as UpstreamError).kind).toBe("response_timeout");
  });

  test("deadlineMs: armed while waiting for a late head, it still ends the stream on time", async () => {
    // The pooled client arms deadlines 25 ms late; here it is armed before the head (80 ms) arrives and
    // must carry over to the body.
    const started = performance.now();
    const res = await client.request(
      req("/stall?head=80", {
        deadlineMs: 300,
        failureTrailer: (error) => encoder.encode(`[${error.kind}]`),
      }),
    );
    expect(await within(res.text(), 3000, "body")).toBe("one[response_timeout]");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
  });

  test("a streaming body goes out as it arrives, intact, with its Content-Length", async () => {
    const tag = newTag("upload");
    const first = pattern(256 * 1024, 7);
    const rest = pattern(768 * 1024, 9);
    const { feed, body } = clientUpload(first.byteLength + rest.byteLength);
    const pending = client.request(req(`/upload?tag=${tag}`, { method: "POST", body }));
    feed.enqueue(first);
    // The upstream must see the first part before the rest even exists: nothing waits for the whole.
    await waitFor(() => (uploadProgress.get(tag) ?? 0) >= first.byteLength, 3000, "first part upstream");
    feed.enqueue(rest);
    feed.close();
    const seen = (await (await within(pending, 5000, "upload")).json()) as {
      length: number;
      sha: string;
      cl: string;
    };
    const whole = new Uint8Array([...first, ...rest]);
    expect(seen).toEqual({ length: whole.byteLength, sha: sha256(whole), cl: String(whole.byteLength) });
  });

  test("a streaming body whose client goes away fails the request instead of hanging", async () => {
    const { feed, body } = clientUpload(100_000);
    const pending = client.request(req(`/upload?tag=${newTag("cut-upload")}`, { method: "POST", body }));
    feed.enqueue(new Uint8Array(1000));
    await Bun.sleep(50);
    feed.error(new Error("client went away"));
    const { error } = await settle(within(pending, 3000, "failed upload"));
    expect(error).toBeInstanceOf(Error);
  });

  test("stats settle back to nothing in flight", async () => {
    await waitFor(() => client.stats().inFlight === 0 && client.stats().queued === 0, 2000, "idle client");
    const stats = client.stats();
    expect(stats.open).toBeGreaterThanOrEqual(stats.idle);
    expect(stats.open).toBeGreaterThanOrEqual(0);
  });

  test.skipIf(tlsSkip !== null)(
    `TLS upstream: trusted with ca, refused without it (kind tls)${tlsSkip ? ` [skipped: ${tlsSkip}]` : ""}`,
    async () => {
      if ("skip" in cert || tlsServer === null) return;
      const url = new URL(`https://127.0.0.1:${tlsServer.port}/echo`);
      const trusting = make({ tls: { ca: cert.cert } });
      const lax = make({ tls: { rejectUnauthorized: false } });
      const strict = make();
      try {
        const res = await trusting.request(req("/echo", { url }));
        expect(((await res.json()) as Echo).method).toBe("GET");
        const laxRes = await lax.request(req("/echo", { url }));
        expect(laxRes.status).toBe(200);
        await laxRes.arrayBuffer();
        const err = await expectUpstreamError(strict.request(req("/echo", { url })));
        expect(err.kind).toBe("tls");
        expect(err.beforeResponse).toBe(true);
      } finally {
        trusting.close();
        lax.close();
        strict.close();
      }
    },
  );
});
