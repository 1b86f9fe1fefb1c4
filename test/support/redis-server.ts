// A real redis-server for tests on a free 127.0.0.1 port, with no persistence; can be killed and started
// again on the same port to play an outage. CI installs redis-server (.ci/run); without it tests fail loudly.

import { RedisClient } from "bun";
import { createServer } from "node:net";

export interface RedisServer {
  port: number;
  url: string;
  /** Kills the server (SIGKILL: a crash, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port; resolves when it answers PING. */
  start(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open but nothing answers. */
  pause(): void;
  resume(): void;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

async function answers(url: string): Promise<boolean> {
  const client = new RedisClient(url, {
    autoReconnect: false,
    enableOfflineQueue: false,
    connectionTimeout: 200,
  });
  try {
    await client.connect();
    return (await client.send("PING", [])) === "PONG";
  } catch {
    return false;
  } finally {
    client.close();
  }
}

export async function startRedisServer(timeoutMs = 5000): Promise<RedisServer> {
  const binary = Bun.which("redis-server");
  if (!binary) {
    throw new Error(
      "redis-server is not installed: the shared rate-limit tests need it (apt-get install redis-server; .ci/run does)",
    );
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let proc: ReturnType<typeof Bun.spawn> | undefined;

  async function start(): Promise<void> {
    proc = Bun.spawn(
      [binary as string, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdout: "ignore", stderr: "pipe" },
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) {
        const detail = await new Response(proc.stderr as ReadableStream).text();
        throw new Error(`redis-server exited with ${proc.exitCode}: ${detail.trim()}`);
      }
      if (await answers(url)) return;
      await Bun.sleep(25);
    }
    proc.kill("SIGKILL");
    throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
  }

  await start();
  return {
    port,
    url,
    start,
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      proc.kill("SIGCONT");
      proc.kill("SIGKILL");
      await proc.exited;
    },
    pause: () => proc?.kill("SIGSTOP"),
    resume: () => proc?.kill("SIGCONT"),
  };
}
