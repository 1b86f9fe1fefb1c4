// A hand-driven HTTP/1.1 client on a raw socket, for what fetch cannot do: send a request in pieces with
// pauses, stop half-way, send malformed bytes, and see whether the server answered or just closed.

export interface RawReply {
  /** Status of the first response, or undefined when none arrived. */
  status?: number;
  /** Everything the server sent, as text. */
  text: string;
  /** The server closed the connection. */
  closed: boolean;
  /** ms from the first write to the first response byte (undefined when none arrived). */
  firstByteMs?: number;
}

export interface RawConnection {
  /** Writes bytes (waits for the socket to drain); false when the socket is already closed. */
  write(data: string | Uint8Array): Promise<boolean>;
  /** Resolves once the server sent something matching `until` (default: a status line), or closed. */
  reply(until?: (text: string) => boolean, timeoutMs?: number): Promise<RawReply>;
  /** Drops the connection (an abrupt client disconnect). */
  close(): void;
}

export async function rawConnect(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl);
  let text = "";
  let closed = false;
  let started: number | undefined;
  let firstByteMs: number | undefined;
  let wake: (() => void) | undefined;
  let drained: (() => void) | undefined;
  const socket = await Bun.connect({
    hostname: url.hostname,
    port: Number(url.port),
    socket: {
      data(_socket, chunk) {
        if (firstByteMs === undefined && started !== undefined) firstByteMs = performance.now() - started;
        text += chunk.toString("latin1");
        wake?.();
      },
      drain() {
        drained?.();
      },
      close() {
        closed = true;
        wake?.();
        drained?.();
      },
      error() {
        closed = true;
        wake?.();
        drained?.();
      },
    },
  });
  const snapshot = (): RawReply => {
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    return { status: status === undefined ? undefined : Number(status), text, closed, firstByteMs };
  };
  return {
    async write(data) {
      if (closed) return false;
      started ??= performance.now();
      let bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
      while (bytes.byteLength > 0) {
        if (closed) return false;
        const written = socket.write(bytes);
        if (written < 0) return false;
        bytes = bytes.subarray(written);
        if (bytes.byteLength > 0) await new Promise<void>((resolve) => (drained = resolve));
      }
      return true;
    },
    async reply(until = (seen) => /^HTTP\/1\.[01] \d{3}[^]*\r\n\r\n/.test(seen), timeoutMs = 5000) {
      const deadline = performance.now() + timeoutMs;
      while (!closed && !until(text) && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(1, deadline - performance.now()));
        });
      }
      return snapshot();
    },
    close() {
      socket.terminate();
    },
  };
}

/** The JSON body of a complete Content-Length response in `text`. */
export function jsonBody(text: string): unknown {
  const start = text.indexOf("\r\n\r\n");
  return JSON.parse(text.slice(start + 4));
}
