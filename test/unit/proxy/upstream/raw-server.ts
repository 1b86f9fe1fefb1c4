// A raw TCP upstream for the client tests: parses each request (Content-Length bodies only, which is all
// our clients send) and lets the test answer with exact bytes, split, delayed or cut wherever it likes.

import type { Socket, TCPSocketListener } from "bun";
import { until, withTimeout } from "../../../support/with-timeout.ts";

export interface RawRequest {
  method: string;
  path: string;
  /** Lower-case names; repeated names joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawConn {
  /** 1-based, in accept order. */
  id: number;
  requests: RawRequest[];
  closed: boolean;
  closedAt: number;
  /** Bytes the kernel accepted from writeAll so far. */
  written: number;
  write(data: string | Uint8Array): void;
  /** Write everything, waiting for drain when the client reads slowly. */
  writeAll(data: Uint8Array): void;
  end(): void;
  terminate(): void;
}

export interface RawServer {
  port: number;
  url(path?: string): URL;
  conns: RawConn[];
  /** Sockets currently open on the server side. */
  openCount(): number;
  stop(): void;
}

type Handler = (req: RawRequest, conn: RawConn) => void;

interface State {
  conn: RawConn;
  buf: Buffer;
  pending: Uint8Array[];
  pendingOffset: number;
}

/** `pauseOnOpenMs`: leave each new socket unread that long, so the client's writes hit backpressure. */
export function startRawServer(
  handler: Handler,
  tls?: { key: string; cert: string },
  pauseOnOpenMs = 0,
): RawServer {
  const conns: RawConn[] = [];
  let open = 0;

  const flushPending = (socket: Socket<State>) => {
    const st = socket.data;
    while (st.pending.length > 0) {
      const chunk = st.pending[0]!;
      const rest = chunk.byteLength - st.pendingOffset;
      const n = socket.write(chunk, st.pendingOffset, rest);
      if (n <= 0) return;
      st.conn.written += n;
      if (n < rest) {
        st.pendingOffset += n;
        return;
      }
      st.pending.shift();
      st.pendingOffset = 0;
    }
  };

  const listener: TCPSocketListener<State> = Bun.listen<State>({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls ? { tls } : {}),
    socket: {
      open(socket) {
        open++;
        socket.setNoDelay(true);
        if (pauseOnOpenMs > 0) {
          socket.pause();
          setTimeout(() => socket.resume(), pauseOnOpenMs);
        }
        const conn: RawConn = {
          id: conns.length + 1,
          requests: [],
          closed: false,
          closedAt: 0,
          written: 0,
          write: (data) => {
            socket.write(data);
          },
          writeAll: (data) => {
            socket.data.pending.push(data);
            flushPending(socket);
          },
          end: () => socket.end(),
          terminate: () => socket.terminate(),
        };
        conns.push(conn);
        socket.data = { conn, buf: Buffer.alloc(0), pending: [], pendingOffset: 0 };
      },
      data(socket, data) {
        const st = socket.data;
        st.buf = st.buf.length === 0 ? Buffer.from(data) : Buffer.concat([st.buf, data]);
        for (;;) {
          const end = st.buf.indexOf("\r\n\r\n");
          if (end === -1) return;
          const lines = st.buf.toString("latin1", 0, end).split("\r\n");
          const [method = "", path = ""] = lines[0]!.split(" ");
          const headers: Record<string, string> = {};
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
          }
          const length = Number(headers["content-length"] ?? 0);
          if (st.buf.length < end + 4 + length) return;
          const body = st.buf.subarray(end + 4, end + 4 + length);
          st.buf = st.buf.subarray(end + 4 + length);
          const req = { method, path, headers, body: Buffer.from(body) };
          st.conn.requests.push(req);
          handler(req, st.conn);
        }
      },
      drain(socket) {
        flushPending(socket);
      },
      close(socket) {
        if (socket.data.conn.closed) return;
        open--;
        socket.data.conn.closed = true;
        socket.data.conn.closedAt = performance.now();
      },
      error() {},
    },
  });

  return {
    port: listener.port,
    url: (path = "/") => new URL(`${tls ? "https" : "http"}://127.0.0.1:${listener.port}${path}`),
    conns,
    openCount: () => open,
    stop: () => listener.stop(true),
  };
}

/** Poll until `check` holds; throws after `ms` so a broken case fails instead of hanging. */
export const waitFor = (check: () => boolean, ms = 2000, what = "condition"): Promise<void> =>
  until(check, ms, what, 2);

/** Race a promise against a deadline. */
export const within = <T>(promise: Promise<T>, ms: number, what = "operation"): Promise<T> =>
  withTimeout(promise, ms, what);

/** Settle a promise into a value or the error it rejected with. */
export async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** Read a body stream to the end, keeping each read separate. */
export async function readAll(stream: ReadableStream<Uint8Array> | null, ms = 5000): Promise<Uint8Array[]> {
  const reads: Uint8Array[] = [];
  if (stream === null) return reads;
  const reader = stream.getReader();
  const run = async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return reads;
      reads.push(value);
    }
  };
  return within(run(), ms, "body read");
}

/** Generate a self-signed certificate for 127.0.0.1/localhost with openssl, or say why not. */
export async function selfSignedCert(): Promise<{ key: string; cert: string } | { skip: string }> {
  const openssl = Bun.which("openssl");
  if (openssl === null) return { skip: "openssl is not installed" };
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "olla-upstream-tls-"));
  try {
    const proc = Bun.spawnSync([
      openssl,
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    if (proc.exitCode !== 0) return { skip: `openssl failed: ${proc.stderr.toString().slice(0, 200)}` };
    return {
      key: await Bun.file(join(dir, "key.pem")).text(),
      cert: await Bun.file(join(dir, "cert.pem")).text(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
