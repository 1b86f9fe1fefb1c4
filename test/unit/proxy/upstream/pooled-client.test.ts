// The pooled (olla) client against raw TCP upstreams that write exact bytes: framing across reads,
// socket reuse and its refusals, stale keep-alive sockets, pool limits and queueing, backpressure.

import { describe, expect, test } from "bun:test";
import { createPooledClient } from "../../../../src/proxy/upstream/pooled-client.ts";
import {
  type UpstreamClient,
  type UpstreamClientOptions,
  UpstreamError,
  type UpstreamRequest,
} from "../../../../src/proxy/upstream/types.ts";
import {
  type RawConn,
  type RawRequest,
  type RawServer,
  readAll,
  selfSignedCert,
  settle,
  startRawServer,
  waitFor,
  within,
} from "./raw-server.ts";
import { collected } from "../../../support/index.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

type Handler = (req: RawRequest, conn: RawConn) => void;

/** Run `fn` with a fresh raw server and pooled client; both are closed afterwards, whatever happens. */
async function withUpstream(
  handler: Handler,
  fn: (server: RawServer, client: UpstreamClient) => Promise<void>,
  options: Partial<UpstreamClientOptions> = {},
): Promise<void> {
  const server = startRawServer(handler);
  const client = createPooledClient(options);
  try {
    await fn(server, client);
  } finally {
    client.close();
    server.stop();
  }
}

function get(server: RawServer, path = "/", init: Partial<UpstreamRequest> = {}): UpstreamRequest {
  return { url: server.url(path), method: "GET", headers: new Headers(), body: null, ...init };
}

async function text(res: Response): Promise<string> {
  return within(res.text(), 3000, "body");
}

async function upstreamError(promise: Promise<unknown>): Promise<UpstreamError> {
  const { error } = await settle(within(promise, 3000, "request"));
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

const ok = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

const CHUNKED =
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n" +
  '9;ext=1;q="x"\r\ndata: one\r\n' +
  "b\r\ndata: two!!\r\n" +
  "0\r\nX-Checksum: abc\r\n\r\n";
const CHUNKED_BODY = "data: onedata: two!!";

describe("pooled client: framing", () => {
  test("Content-Length body split from its head arrives whole; the reason phrase passes through", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write("HTTP/1.1 201 Made It\r\nContent-Length: 11\r\nX-A: 1\r\n\r\nhel");
        setTimeout(() => conn.write("lo "), 5);
        setTimeout(() => conn.write("world"), 10);
      },
      async (server, client) => {
        const res = await client.request(get(server));
        expect(res.status).toBe(201);
        expect(res.statusText).toBe("Made It");
        expect(res.headers.get("x-a")).toBe("1");
        expect(await text(res)).toBe("hello world");
      },
    );
  });

  test("chunked framing split at every byte offset over the wire, on one reused connection", async () => {
    let split = 1;
    await withUpstream(
      (_req, conn) => {
        const i = split;
        conn.write(CHUNKED.slice(0, i));
        setTimeout(() => conn.write(CHUNKED.slice(i)), 1);
      },
      async (server, client) => {
        for (split = 1; split < CHUNKED.length; split++) {
          const res = await client.request(get(server, `/split/${split}`));
          expect({ split, body: await text(res) }).toEqual({ split, body: CHUNKED_BODY });
        }
        expect(server.conns.length).toBe(1);
      },
    );
  });

  test("each chunked read reaches the consumer as its own read (no coalescing, no delay)", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst\n\r\n");
        setTimeout(() => conn.write("7\r\nsecond\n\r\n"), 40);
        setTimeout(() => conn.write("6\r\nthird\n\r\n0\r\n\r\n"), 80);
      },
      async (server, client) => {
        const res = await client.request(get(server));
        const reads = (await readAll(res.body)).map((r) => decoder.decode(r));
        expect(reads).toEqual(["first\n", "second\n", "third\n"]);
      },
    );
  });

  test("body delimited by connection close is read to the end; the socket is not reused", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil ");
        setTimeout(() => {
          conn.write("close");
          conn.end();
        }, 10);
      },
      async (server, client) => {
        expect(await text(await client.request(get(server)))).toBe("until close");
        expect(await text(await client.request(get(server)))).toBe("until close");
        expect(server.conns.length).toBe(2);
        await waitFor(() => client.stats().open === 0, 1000, "no open sockets");
      },
    );
  });

  test("HEAD, 204 and 304 carry no body and leave the socket reusable; 100 Continue is skipped", async () => {
    await withUpstream(
      (req, conn) => {
        if (req.method === "HEAD") conn.write("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        else if (req.path === "/204") conn.write("HTTP/1.1 204 No Content\r\nX-N: 1\r\n\r\n");
        else if (req.path === "/304") conn.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
        else if (req.path === "/continue") {
          conn.write("HTTP/1.1 100 Continue\r\n\r\n");
          setTimeout(() => conn.write(ok("after continue")), 5);
        } else conn.write(ok("plain"));
      },
      async (server, client) => {
        const head = await client.request(get(server, "/", { method: "HEAD" }));
        expect(head.headers.get("content-length")).toBe("1234");
        expect(await text(head)).toBe("");
        const noContent = await client.request(get(server, "/204"));
        expect(noContent.status).toBe(204);
        expect(await text(noContent)).toBe("");
        const notModified = await client.request(get(server, "/304"));
        expect(notModified.status).toBe(304);
        expect(await text(notModified)).toBe("");
        const cont = await client.request(get(server, "/continue"));
        expect(cont.status).toBe(200);
        expect(await text(cont)).toBe("after continue");
        expect(await text(await client.request(get(server)))).toBe("plain");
        expect(server.conns.length).toBe(1);
      },
    );
  });

  test("fast-path bodies stay intact while later responses arrive", async () => {
    await withUpstream(
      (req, conn) => conn.write(ok(`body of ${req.path} `.repeat(20))),
      async (server, client) => {
        const first = await Promise.all(
          Array.from({ length: 30 }, (_, i) => client.request(get(server, `/a/${i}`))),
        );
        const second = await Promise.all(
          Array.from({ length: 30 }, (_, i) => client.request(get(server, `/b/${i}`))),
        );
        for (const [i, res] of first.entries()) expect(await text(res)).toBe(`body of /a/${i} `.repeat(20));
        for (const [i, res] of second.entries()) expect(await text(res)).toBe(`body of /b/${i} `.repeat(20));
      },
    );
  });
});

describe("pooled client: refusing bad responses", () => {
  const cases: [string, string][] = [
    [
      "both Content-Length and Transfer-Encoding",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ],
    [
      "conflicting duplicate Content-Length",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    ],
    ["a garbage status line", "HTTP/1.1 OK fine\r\n\r\n"],
  ];
  for (const [name, wire] of cases) {
    test(`${name}: protocol error, and the socket is not reused`, async () => {
      let n = 0;
      await withUpstream(
        (_req, conn) => conn.write(n++ === 0 ? wire : ok("fine")),
        async (server, client) => {
          const err = await upstreamError(client.request(get(server)));
          expect(err.kind).toBe("protocol");
          expect(err.beforeResponse).toBe(false);
          expect(await text(await client.request(get(server)))).toBe("fine");
          expect(server.conns.length).toBe(2);
          await waitFor(() => server.conns[0]!.closed, 1000, "bad socket closed");
        },
      );
    });
  }

  test("malformed chunk framing mid-body errors the body stream and drops the socket", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
        setTimeout(() => conn.write("zz\r\n"), 20);
      },
      async (server, client) => {
        const res = await client.request(get(server));
        const { error } = await settle(readAll(res.body, 2000));
        expect(error).toBeInstanceOf(UpstreamError);
        expect((error as UpstreamError).kind).toBe("protocol");
        await waitFor(() => server.conns[0]!.closed, 1000, "socket closed");
      },
    );
  });

  test("bytes after the end of a response: answer delivered, socket not reused", async () => {
    await withUpstream(
      (_req, conn) => conn.write(`${ok("first")}HTTP/1.1 200 OK\r\n`),
      async (server, client) => {
        expect(await text(await client.request(get(server)))).toBe("first");
        expect(await text(await client.request(get(server)))).toBe("first");
        expect(server.conns.length).toBe(2);
      },
    );
  });

  test("unsolicited bytes on an idle socket close it", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write(ok("one"));
        setTimeout(() => conn.write("HTTP/1.1 408 Request Timeout\r\n\r\n"), 20);
      },
      async (server, client) => {
        expect(await text(await client.request(get(server)))).toBe("one");
        await waitFor(() => server.conns[0]!.closed, 1000, "idle socket closed");
        expect(client.stats()).toEqual({ open: 0, idle: 0, queued: 0, inFlight: 0 });
      },
    );
  });
});

describe("pooled client: connection reuse", () => {
  test("20 sequential requests use one connection", async () => {
    await withUpstream(
      (req, conn) => conn.write(ok(`r${req.path}`)),
      async (server, client) => {
        for (let i = 0; i < 20; i++)
          expect(await text(await client.request(get(server, `/${i}`)))).toBe(`r/${i}`);
        expect(server.conns.length).toBe(1);
        expect(server.conns[0]!.requests.length).toBe(20);
        expect(client.stats()).toEqual({ open: 1, idle: 1, queued: 0, inFlight: 0 });
      },
    );
  });

  test("Connection: close from the upstream: the socket is not reused", async () => {
    await withUpstream(
      (_req, conn) => conn.write(ok("bye", "Connection: close\r\n")),
      async (server, client) => {
        await text(await client.request(get(server)));
        await text(await client.request(get(server)));
        expect(server.conns.length).toBe(2);
        await waitFor(() => server.openCount() === 0, 1000, "sockets closed");
      },
    );
  });

  test("Connection: close from the caller is sent upstream and the socket is not reused", async () => {
    await withUpstream(
      (_req, conn) => conn.write(ok("fine")),
      async (server, client) => {
        const headers = new Headers({ connection: "close" });
        await text(await client.request(get(server, "/", { headers })));
        await text(await client.request(get(server, "/", { headers })));
        expect(server.conns.length).toBe(2);
        expect(server.conns[0]!.requests[0]!.headers.connection).toBe("close");
      },
    );
  });

  test("request head: Host, Content-Length for bodies and empty POSTs, URL credentials, managed headers", async () => {
    await withUpstream(
      (_req, conn) => conn.write(ok("seen")),
      async (server, client) => {
        const headers = new Headers({
          "x-keep": "yes",
          host: "evil.example",
          "content-length": "999",
          "transfer-encoding": "chunked",
        });
        await text(
          await client.request(
            get(server, "/p?q=1", { method: "POST", headers, body: encoder.encode("abc") }),
          ),
        );
        await text(await client.request(get(server, "/empty", { method: "POST" })));
        const withUser = new URL(server.url("/auth"));
        withUser.username = "user";
        withUser.password = "p@ss";
        await text(await client.request(get(server, "/", { url: withUser })));
        const [post, empty, auth] = server.conns.flatMap((c) => c.requests);
        expect(post!.path).toBe("/p?q=1");
        expect(post!.headers.host).toBe(`127.0.0.1:${server.port}`);
        expect(post!.headers["content-length"]).toBe("3");
        expect(post!.headers["transfer-encoding"]).toBeUndefined();
        expect(post!.headers["x-keep"]).toBe("yes");
        expect(post!.body.toString()).toBe("abc");
        expect(empty!.headers["content-length"]).toBe("0");
        expect(auth!.headers.authorization).toBe(`Basic ${Buffer.from("user:p@ss").toString("base64")}`);
      },
    );
  });

  test("stale keep-alive socket: closed before any response byte, the request is retried once on a fresh connection", async () => {
    await withUpstream(
      (req, conn) => {
        // The first connection answers once, then drops the next request unanswered (keep-alive ran out).
        if (conn.id === 1 && conn.requests.length === 2) conn.end();
        else conn.write(ok(`${req.method} ${req.body.toString()}`));
      },
      async (server, client) => {
        expect(await text(await client.request(get(server)))).toBe("GET ");
        const body = encoder.encode("replayed body");
        const res = await client.request(get(server, "/", { method: "POST", body }));
        expect(await text(res)).toBe("POST replayed body");
        expect(server.conns.length).toBe(2);
        expect(server.conns[1]!.requests[0]!.body.toString()).toBe("replayed body");
      },
    );
  });

  test("a fresh socket closed before any response byte is not retried: reset, beforeResponse true", async () => {
    await withUpstream(
      (_req, conn) => conn.end(),
      async (server, client) => {
        const err = await upstreamError(client.request(get(server)));
        expect(err.kind).toBe("reset");
        expect(err.beforeResponse).toBe(true);
        expect(server.conns.length).toBe(1);
        expect(client.stats().open).toBe(0);
      },
    );
  });

  test("a reused socket that closes inside the response head is not retried: beforeResponse false", async () => {
    await withUpstream(
      (_req, conn) => {
        if (conn.requests.length === 1) conn.write(ok("first"));
        else {
          conn.write("HTTP/1.1 200 OK\r\nContent-");
          setTimeout(() => conn.end(), 5);
        }
      },
      async (server, client) => {
        await text(await client.request(get(server)));
        const err = await upstreamError(client.request(get(server)));
        expect(err.kind).toBe("reset");
        expect(err.beforeResponse).toBe(false);
        expect(server.conns.length).toBe(1);
      },
    );
  });

  test("an idle socket closed by the upstream leaves the pool, counted down once (end and close)", async () => {
    await withUpstream(
      (_req, conn) => {
        conn.write(ok("one"));
        setTimeout(() => conn.end(), 10);
      },
      async (server, client) => {
        await text(await client.request(get(server)));
        await waitFor(() => client.stats().idle === 0, 1000, "idle socket dropped");
        await Bun.sleep(20); // let a second (close) event arrive after end
        expect(client.stats()).toEqual({ open: 0, idle: 0, queued: 0, inFlight: 0 });
        expect(await text(await client.request(get(server)))).toBe("one");
        expect(server.conns.length).toBe(2);
      },
    );
  });

  test("idle sockets expire after idleConnTimeoutMs", async () => {
    await withUpstream(
      (_req, conn) => conn.write(ok("x")),
      async (server, client) => {
        await text(await client.request(get(server)));
        expect(client.stats().idle).toBe(1);
        await waitFor(() => server.openCount() === 0, 2000, "expired socket closed");
        expect(client.stats()).toEqual({ open: 0, idle: 0, queued: 0, inFlight: 0 });
      },
      { idleConnTimeoutMs: 100 },
    );
  });

  test("maxIdleConns caps the idle sockets kept per host", async () => {
    const held: RawConn[] = [];
    await withUpstream(
      (_req, conn) => held.push(conn),
      async (server, client) => {
        const pending = [0, 1, 2].map((i) => client.request(get(server, `/${i}`)));
        await waitFor(() => held.length === 3, 2000, "three requests upstream");
        for (const conn of held) conn.write(ok("done"));
        for (const res of await Promise.all(pending)) await text(res);
        await waitFor(() => server.openCount() === 1, 1000, "surplus sockets closed");
        expect(client.stats()).toEqual({ open: 1, idle: 1, queued: 0, inFlight: 0 });
      },
      { maxIdleConns: 1 },
    );
  });
});

describe("pooled client: pool limits, aborts and backpressure", () => {
  test("requests beyond maxConnsPerHost wait in a FIFO queue and all complete", async () => {
    const held: [RawRequest, RawConn][] = [];
    await withUpstream(
      (req, conn) => held.push([req, conn]),
      async (server, client) => {
        const pending = [0, 1, 2, 3, 4].map((i) => client.request(get(server, `/q/${i}`)));
        await waitFor(() => held.length === 2, 2000, "two requests upstream");
        await Bun.sleep(20);
        expect(held.length).toBe(2);
        expect(client.stats()).toEqual({ open: 2, idle: 0, queued: 3, inFlight: 2 });
        const order: string[] = held.map(([r]) => r.path).sort();
        // Answer one at a time: each freed socket takes the oldest waiting request.
        for (let answered = 0; answered < 5; answered++) {
          await waitFor(() => held.length > 0, 2000, "a request upstream");
          const [req, conn] = held.shift()!;
          if (answered >= 2) order.push(req.path);
          conn.write(ok(req.path));
        }
        const bodies = await Promise.all(pending.map(async (p) => text(await p)));
        expect(bodies).toEqual(["/q/0", "/q/1", "/q/2", "/q/3", "/q/4"]);
        expect(order).toEqual(["/q/0", "/q/1", "/q/2", "/q/3", "/q/4"]);
        expect(server.conns.length).toBe(2);
        expect(client.stats()).toEqual({ open: 2, idle: 2, queued: 0, inFlight: 0 });
      },
      { maxConnsPerHost: 2 },
    );
  });

  test("a queued request gets a connection when the busy socket dies", async () => {
    await withUpstream(
      (_req, conn) => {
        if (conn.id === 1) setTimeout(() => conn.terminate(), 30);
        else conn.write(ok("second"));
      },
      async (server, client) => {
        const first = client.request(get(server, "/1"));
        const second = client.request(get(server, "/2"));
        await waitFor(() => client.stats().queued === 1, 1000, "second request queued");
        const err = await upstreamError(first);
        expect(err.kind).toBe("reset");
        expect(err.beforeResponse).toBe(true);
        expect(await text(await within(second, 2000, "queued request"))).toBe("second");
        expect(server.conns.length).toBe(2);
      },
      { maxConnsPerHost: 1 },
    );
  });

  test("aborting a queued request removes it from the queue; the upstream never sees it", async () => {
    const held: RawConn[] = [];
    await withUpstream(
      (_req, conn) => held.push(conn),
      async (server, client) => {
        const first = client.request(get(server, "/1"));
        const ac = new AbortController();
        const second = client.request(get(server, "/2", { signal: ac.signal }));
        await waitFor(() => client.stats().queued === 1, 1000, "second request queued");
        ac.abort();
        const err = await upstreamError(second);
        expect(err.kind).toBe("aborted");
        expect(err.beforeResponse).toBe(true);
        expect(client.stats().queued).toBe(0);
        await waitFor(() => held.length === 1, 1000, "first request upstream");
        held[0]!.write(ok("first"));
        expect(await text(await first)).toBe("first");
        expect(server.conns.flatMap((c) => c.requests).map((r) => r.path)).toEqual(["/1"]);
      },
      { maxConnsPerHost: 1 },
    );
  });

  test("cancelling the response body destroys the upstream socket", async () => {
    await withUpstream(
      (_req, conn) => conn.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"),
      async (server, client) => {
        const res = await client.request(get(server));
        const reader = res.body!.getReader();
        expect(decoder.decode((await within(reader.read(), 2000, "first read")).value)).toBe("hello");
        await reader.cancel();
        await waitFor(() => server.conns[0]!.closed, 1000, "upstream socket closed");
        expect(client.stats()).toEqual({ open: 0, idle: 0, queued: 0, inFlight: 0 });
      },
    );
  });

  test("a slow consumer pauses the upstream; the body is intact once read", async () => {
    const size = 32 * 1024 * 1024;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 4096) body[i] = (i / 4096) & 255;
    let upstream: RawConn | null = null;
    await withUpstream(
      (_req, conn) => {
        upstream = conn;
        conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
        conn.writeAll(body);
      },
      async (server, client) => {
        const res = await client.request(get(server));
        await Bun.sleep(300); // read nothing: the client must stop taking bytes
        const written = (upstream as RawConn | null)?.written ?? 0;
        expect(written).toBeLessThan(size / 2);
        const got = new Uint8Array(await within(res.arrayBuffer(), 10_000, "32 MB body"));
        expect(got.byteLength).toBe(size);
        expect(Buffer.compare(got, body)).toBe(0);
        expect(server.conns.length).toBe(1);
      },
      { streamBufferSize: 64 * 1024 },
    );
  });

  // The read gap does not count while the consumer holds the socket paused; the deadline (kept by the
  // same timer once the body streams) still does.
  test("the deadline cuts a stream its slow consumer has paused: response_timeout, socket destroyed", async () => {
    const size = 32 * 1024 * 1024;
    await withUpstream(
      (_req, conn) => {
        conn.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
        conn.writeAll(new Uint8Array(size));
      },
      async (server, client) => {
        const res = await client.request(
          get(server, "/", { deadlineMs: 250, failureTrailer: (error) => encoder.encode(`[${error.kind}]`) }),
        );
        await waitFor(() => server.conns[0]!.closed, 2000, "upstream socket destroyed at the deadline");
        const body = Buffer.from(await within(res.arrayBuffer(), 5000, "body"));
        expect(body.byteLength).toBeLessThan(size);
        expect(body.subarray(-18).toString()).toBe("[response_timeout]");
      },
      { streamBufferSize: 64 * 1024 },
    );
  });

  test("a request body bigger than the socket buffers goes out across drain events", async () => {
    const size = 16 * 1024 * 1024;
    const body = new Uint8Array(size);
    for (let i = 0; i < size; i += 1000) body[i] = (i / 1000) & 255;
    const server = startRawServer(
      (req, conn) => conn.write(ok(`${req.body.length} ${Buffer.compare(req.body, body)}`)),
      undefined,
      150,
    );
    const client = createPooledClient();
    try {
      const res = await within(client.request(get(server, "/", { method: "POST", body })), 5000, "upload");
      expect(await text(res)).toBe(`${size} 0`);
      expect(server.conns.length).toBe(1);
    } finally {
      client.close();
      server.stop();
    }
  });

  test("header timeout counts after an interim response too: header_timeout, beforeResponse false", async () => {
    await withUpstream(
      (_req, conn) => conn.write("HTTP/1.1 100 Continue\r\n\r\n"),
      async (server, client) => {
        const err = await upstreamError(client.request(get(server)));
        expect(err.kind).toBe("header_timeout");
        expect(err.beforeResponse).toBe(false);
        await waitFor(() => server.conns[0]!.closed, 1000, "socket destroyed");
      },
      { responseHeaderTimeoutMs: 100 },
    );
  });
});

describe("pooled client: late arming (no listener or timers for the first 25 ms)", () => {
  test("a client that goes away in the first milliseconds still reaches the upstream within 100 ms", async () => {
    await withUpstream(
      () => {},
      async (server, client) => {
        const controller = new AbortController();
        const pending = client.request(get(server, "/", { signal: controller.signal }));
        await waitFor(() => server.conns.length === 1, 1000, "request sent");
        controller.abort();
        const abortedAt = performance.now();
        const err = await upstreamError(pending);
        expect(err.kind).toBe("aborted");
        await waitFor(() => server.conns[0]!.closed, 1000, "socket destroyed");
        expect(performance.now() - abortedAt).toBeLessThan(100);
      },
    );
  });

  // Armed at the first sweep (25 ms) with what is left: a timer armed then for the whole timeout would
  // fire 25 ms late, past these bounds.
  test("timeouts armed late keep their expiry: header 40 ms, deadline 60 ms", async () => {
    await withUpstream(
      () => {},
      async (server, client) => {
        const started = performance.now();
        const head = await upstreamError(client.request(get(server, "/head")));
        expect(head.kind).toBe("header_timeout");
        expect(performance.now() - started).toBeGreaterThanOrEqual(38);
        expect(performance.now() - started).toBeLessThan(40 + 22);
      },
      { responseHeaderTimeoutMs: 40 },
    );
    await withUpstream(
      () => {},
      async (server, client) => {
        const started = performance.now();
        const err = await upstreamError(client.request(get(server, "/", { deadlineMs: 60 })));
        expect(err.kind).toBe("response_timeout");
        expect(performance.now() - started).toBeGreaterThanOrEqual(58);
        expect(performance.now() - started).toBeLessThan(60 + 22);
      },
    );
  });

  test("a signal aborted before the request settles it at once, without touching the pool", async () => {
    await withUpstream(
      () => {},
      async (server, client) => {
        const err = await upstreamError(client.request(get(server, "/", { signal: AbortSignal.abort() })));
        expect(err.kind).toBe("aborted");
        expect(client.stats()).toEqual({ open: 0, idle: 0, queued: 0, inFlight: 0 });
      },
    );
  });
});

describe("pooled client: what a long stream keeps", () => {
  for (const [label, release] of [
    ["the caller lets go at the head", true],
    ["the caller keeps it", false],
  ] as const) {
    test(`the request body is not kept by the client while the answer streams (${label})`, async () => {
      let conn: RawConn | undefined;
      await withUpstream(
        (_req, c) => {
          conn = c;
          c.write(
            `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n5\r\nfirst\r\n`,
          );
        },
        async (server, client) => {
          // Larger than what the encoder copies behind the head, so the client holds this very buffer.
          let body: Uint8Array | null = new Uint8Array(200 * 1024).fill(97);
          const ref = new WeakRef(body);
          const req: UpstreamRequest = {
            ...get(server, "/", { method: "POST", body }),
            responseHeaders(headers) {
              if (release) this.body = null;
              return headers;
            },
          };
          body = null;
          const res = await within(client.request(req), 3000, "head");
          const reader = res.body!.getReader();
          expect(decoder.decode((await within(reader.read(), 3000, "first chunk")).value)).toBe("first");
          expect(await collected(ref)).toBe(release);
          conn!.write("0\r\n\r\n");
          expect((await within(reader.read(), 3000, "end")).done).toBe(true);
        },
      );
    });
  }

  for (const [label, reused] of [
    ["a fresh socket: nothing can send them again", false],
    ["a reused socket: kept for the stale-socket retry", true],
  ] as const) {
    test(`a request waiting for its head, all written: its bytes (${label})`, async () => {
      const waiting: RawConn[] = [];
      await withUpstream(
        (req, c) => {
          if (req.path === "/warm") c.write(ok("warm"));
          else waiting.push(c);
        },
        async (server, client) => {
          if (reused) expect(await text(await client.request(get(server, "/warm")))).toBe("warm");
          // Larger than what the encoder copies behind the head, so the client holds this very buffer.
          let body: Uint8Array | null = new Uint8Array(200 * 1024).fill(97);
          const ref = new WeakRef(body);
          const req = get(server, "/wait", { method: "POST", body });
          const answer = client.request(req);
          // Should an assertion below fail, the request's failure must not land in the next test.
          answer.catch(() => {});
          // The caller lets go of its body (as the proxy's tries do at the head); only the client may hold it.
          req.body = null;
          body = null;
          await waitFor(() => waiting[0]?.requests.at(-1)?.body.byteLength === 200 * 1024, 3000, "upload");
          expect(server.conns.length).toBe(1);
          expect(await collected(ref)).toBe(!reused);
          waiting[0]!.write(ok("late"));
          expect(await text(await within(answer, 3000, "head"))).toBe("late");
        },
      );
    });
  }
});

const cert = await selfSignedCert();
const tlsSkip = "skip" in cert ? cert.skip : null;

describe("pooled client: TLS", () => {
  test.skipIf(tlsSkip !== null)(
    `TLS sockets are reused like plain ones${tlsSkip ? ` [skipped: ${tlsSkip}]` : ""}`,
    async () => {
      if ("skip" in cert) return;
      const server = startRawServer((req, conn) => conn.write(ok(`tls ${req.path}`)), cert);
      const client = createPooledClient({ tls: { ca: cert.cert } });
      try {
        for (let i = 0; i < 3; i++) {
          expect(await text(await client.request(get(server, `/${i}`)))).toBe(`tls /${i}`);
        }
        expect(server.conns.length).toBe(1);
        const hostUrl = new URL(server.url("/by-name"));
        hostUrl.hostname = "localhost";
        expect(await text(await client.request(get(server, "/", { url: hostUrl })))).toBe("tls /by-name");
      } finally {
        client.close();
        server.stop();
      }
    },
  );

  test("a TLS handshake that never completes fails with kind connect after tlsHandshakeTimeoutMs", async () => {
    // A plain TCP server never answers the ClientHello.
    await withUpstream(
      () => {},
      async (server, client) => {
        const url = new URL(`https://127.0.0.1:${server.port}/`);
        const err = await upstreamError(client.request(get(server, "/", { url })));
        expect(err.kind).toBe("connect");
        expect(err.beforeResponse).toBe(true);
        expect(err.message).toContain("TLS handshake timed out");
        await waitFor(() => server.openCount() === 0, 1000, "socket closed");
        expect(client.stats().open).toBe(0);
      },
      { tlsHandshakeTimeoutMs: 150 },
    );
  });
});
