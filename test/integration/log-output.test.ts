// Where the log cannot keep up, the real olla process keeps serving. Its access log goes to a pipe the
// test stops reading: olla holds at most LOG_MAX_PENDING_BYTES of lines, and once the reader is back
// says how many it dropped; every line that arrives is whole. Its log file is on a full disk: it says
// so on stderr, once, and answers as before.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LOG_MAX_PENDING_BYTES } from "../../src/log/index.ts";
import { withTimeout } from "../support/index.ts";
import { cleanEnv, MAIN } from "../support/olla-process.ts";

const REQUESTS = 3000;
/** Each request's access-log line carries its query: about 4 KB a line, so 3,000 lines are about three
 * times the queue's limit, whatever the pipe itself holds. */
const QUERY = `?q=${"x".repeat(4000)}`;
const DROP_NOTICE = "log output fell behind: lines dropped";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "olla-log-output-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a log reader that falls behind", () => {
  test("olla keeps answering, keeps at most the limit, counts what it drops, tears no line", async () => {
    const config = join(dir, "olla.yaml");
    writeFileSync(
      config,
      "server:\n  host: 127.0.0.1\n  port: 0\n  rate_limits: {global_requests_per_minute: 0, per_ip_requests_per_minute: 0, health_requests_per_minute: 0}\n" +
        "logging: {level: info, format: json}\ndiscovery:\n  static:\n    endpoints: []\n",
    );
    const olla = Bun.spawn([process.execPath, MAIN, "-c", config], {
      env: cleanEnv(),
      stdout: "pipe",
      stderr: "ignore",
    });
    try {
      const reader = olla.stdout.getReader();
      const decoder = new TextDecoder();
      let text = "";
      const readUntil = async (found: () => boolean) => {
        while (!found()) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`olla's stdout ended:\n${text.slice(-2000)}`);
          text += decoder.decode(value, { stream: true });
        }
      };
      await withTimeout(
        readUntil(() => text.includes('"olla started"')),
        10_000,
        "olla started",
      );
      const started = JSON.parse(text.split("\n").find((line) => line.includes('"olla started"'))!);
      const url = `${started.listen.replace(/\/$/, "")}/no-such-route${QUERY}`;

      // The reader stops reading; the requests go on, 16 at a time.
      let next = 0;
      const statuses: number[] = [];
      const client = async () => {
        while (next < REQUESTS) {
          next++;
          const response = await fetch(url);
          await response.arrayBuffer();
          statuses.push(response.status);
        }
      };
      await withTimeout(Promise.all(Array.from({ length: 16 }, client)), 60_000, "requests");
      expect(statuses.length).toBe(REQUESTS);
      expect(new Set(statuses)).toEqual(new Set([404]));
      // The reader is back: everything kept, then the notice.
      await withTimeout(
        readUntil(() => text.includes(DROP_NOTICE)),
        10_000,
        "the drop notice",
      );
      await withTimeout(
        readUntil(() => text.endsWith("\n")),
        5_000,
        "the notice's end",
      );
      const records = text
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      const accessLines = records.filter(
        (record) => record.msg === "request" && record.path?.startsWith("/no-such-route"),
      );
      const notice = records.find((record) => record.msg === DROP_NOTICE);
      expect(notice.level).toBe("warn");
      expect(notice.queue_limit_bytes).toBe(LOG_MAX_PENDING_BYTES);
      expect(notice.dropped_lines).toBeGreaterThan(0);
      // Every request is either in the log, whole, or counted as dropped.
      expect(accessLines.length + notice.dropped_lines).toBe(REQUESTS);
      // What was kept is about the limit (plus what the pipe held), not everything.
      expect(accessLines.length * 4100).toBeLessThan(LOG_MAX_PENDING_BYTES * 2);
    } finally {
      olla.kill("SIGKILL");
      await olla.exited;
    }
  }, 90_000);
});

/** The TCP port a process listens on, from /proc (its log, where the address is told, is lost here). */
function listeningPort(pid: number): number | undefined {
  const sockets = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (target.startsWith("socket:[")) sockets.add(target.slice(8, -1));
    } catch {
      // Closed while listed.
    }
  }
  for (const row of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const fields = row.trim().split(/\s+/);
    // local address, state 0A (LISTEN), inode
    if (fields[3] === "0A" && sockets.has(fields[9]!)) return Number.parseInt(fields[1]!.split(":")[1]!, 16);
  }
  return undefined;
}

describe.skipIf(process.platform !== "linux")("a log file on a full disk (/dev/full)", () => {
  test("olla says so on stderr once and keeps answering", async () => {
    const olla = Bun.spawn([process.execPath, MAIN], {
      env: cleanEnv({
        OLLA_SERVER_PORT: "0",
        OLLA_SERVER_HOST: "127.0.0.1",
        OLLA_LOGGING_OUTPUT: "file",
        OLLA_LOGGING_FILE: "/dev/full",
      }),
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      let port: number | undefined;
      await withTimeout(
        (async () => {
          while ((port = listeningPort(olla.pid)) === undefined) await Bun.sleep(20);
        })(),
        10_000,
        "olla listening",
      );
      for (let i = 0; i < 20; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/internal/health`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        // Across several log batches (each waits up to 100 ms).
        await Bun.sleep(25);
      }
      expect(olla.exitCode).toBeNull();
      olla.kill("SIGTERM");
      expect(await withTimeout(olla.exited, 10_000, "olla exit")).toBe(0);
      const stderr = await new Response(olla.stderr).text();
      const told = stderr.split("\n").filter((line) => line.includes("cannot write the log to /dev/full"));
      expect(told.length).toBe(1);
      expect(told[0]).toContain("ENOSPC");
    } finally {
      olla.kill("SIGKILL");
      await olla.exited;
    }
  }, 30_000);
});
