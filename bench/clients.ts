// Benchmark clients written for what wrk cannot measure: time to first chunk and gaps between
// chunks of streamed answers, and thousands of slow streams held open at once on raw sockets.

export interface StreamTiming {
  /** Time from sending the request to the first body chunk. */
  ttfcMs: number;
  /** Largest pause between two body reads. */
  maxGapMs: number;
  reads: number;
}

/** One streamed request, timed from sending it to each body read. */
async function timeStream(url: string, body: string): Promise<StreamTiming> {
  const started = performance.now();
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  let first = Number.NaN;
  let last = 0;
  let maxGap = 0;
  let reads = 0;
  for await (const _ of response.body!) {
    const now = performance.now();
    if (reads === 0) first = now - started;
    else maxGap = Math.max(maxGap, now - last);
    last = now;
    reads++;
  }
  return { ttfcMs: first, maxGapMs: maxGap, reads };
}

/** Runs `rounds` rounds of `concurrency` streamed requests sent at the same instant (a burst) and times
 *  each one. */
export async function streamTimings(url: string, body: string, concurrency: number, rounds: number) {
  const timings: StreamTiming[] = [];
  for (let round = 0; round < rounds; round++) {
    timings.push(...(await Promise.all(Array.from({ length: concurrency }, () => timeStream(url, body)))));
  }
  return timings;
}

/** `concurrency` clients, each sending `perClient` streamed requests one after another, as wrk holds a
 *  concurrency: a stream starts whenever one ends. Their first requests are spread evenly over
 *  `spreadMs` (about one stream's length), so the clients keep apart as independent users do instead
 *  of all starting together at every round. */
export async function steadyStreamTimings(
  url: string,
  body: string,
  concurrency: number,
  perClient: number,
  spreadMs: number,
) {
  const timings: StreamTiming[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      await Bun.sleep((client * spreadMs) / concurrency);
      for (let i = 0; i < perClient; i++) timings.push(await timeStream(url, body));
    }),
  );
  return timings;
}

export interface HoldResult {
  completed: number;
  /** Completed with every expected event and the final [DONE]. */
  intact: number;
  failed: number;
  elapsedMs: number;
}

/** A JSON POST as raw HTTP/1.1 bytes, for the raw-socket clients below (`extra`: more header lines). */
function rawPost(target: URL, body: string, extra = ""): Uint8Array {
  return new TextEncoder().encode(
    `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  );
}

/** Holds `count` SSE streams at once over raw TCP (HTTP/1.1, one connection each) and checks each
 *  arrives whole: `expectEvents` data events ending with [DONE]. */
export async function holdStreams(
  url: string,
  body: string,
  count: number,
  expectEvents: number,
  timeoutMs: number,
): Promise<HoldResult> {
  const target = new URL(url);
  const request = rawPost(target, body, "Connection: close\r\n");
  const result: HoldResult = { completed: 0, intact: 0, failed: 0, elapsedMs: 0 };
  const started = performance.now();
  const one = () =>
    new Promise<void>((resolve) => {
      let text = "";
      let settled = false;
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        if (!ok) result.failed++;
        else {
          result.completed++;
          const events = text.split("\ndata: ").length - 1;
          if (events >= expectEvents && text.includes("data: [DONE]")) result.intact++;
        }
        resolve();
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      Bun.connect({
        hostname: target.hostname,
        port: Number(target.port),
        socket: {
          open(socket) {
            socket.write(request);
          },
          data(_socket, chunk) {
            text += chunk.toString();
          },
          close() {
            clearTimeout(timer);
            finish(text.startsWith("HTTP/1.1 200"));
          },
          error() {
            clearTimeout(timer);
            finish(false);
          },
          connectError() {
            clearTimeout(timer);
            finish(false);
          },
        },
      }).catch(() => finish(false));
    });
  // Open in waves so the listen backlog is not the thing being measured.
  const all: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    all.push(one());
    if (i % 250 === 249) await Bun.sleep(20);
  }
  await Promise.all(all);
  result.elapsedMs = performance.now() - started;
  return result;
}

export interface HeldRequests {
  /** Requests whose answer has begun (a first byte arrived). */
  answered(): number;
  /** Closes every connection (the proxy sees its clients go away). */
  close(): void;
}

/** Sends `count` requests over raw TCP, one connection each, and keeps the connections open whatever
 * the answer does: what a proxy holds per waiting request or per open stream is measured meanwhile. */
export async function holdRequests(url: string, body: string, count: number): Promise<HeldRequests> {
  const target = new URL(url);
  const request = rawPost(target, body);
  let answered = 0;
  const sockets: { end(): void }[] = [];
  for (let i = 0; i < count; i++) {
    let first = true;
    const socket = await Bun.connect({
      hostname: target.hostname,
      port: Number(target.port),
      socket: {
        open(s) {
          s.write(request);
        },
        data() {
          if (first) answered++;
          first = false;
        },
      },
    });
    sockets.push(socket);
    // In waves, so the listen backlog is not what is measured.
    if (i % 250 === 249) await Bun.sleep(20);
  }
  return {
    answered: () => answered,
    close: () => {
      for (const socket of sockets) socket.end();
    },
  };
}
