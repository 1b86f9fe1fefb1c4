// The standalone binary built by build.ts: runs from an empty folder with no config, relaunches
// itself with Bun's start-up limits, and reads OLLA_CONFIG_FILE.

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTarget, hostTarget } from "../../build.ts";
import { cleanEnv } from "../support/olla-process.ts";

let work: string;
let binary: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "olla-binary-"));
  binary = await buildTarget(hostTarget(), work, { commit: "testcommit", date: "2026-01-02T03:04:05Z" });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The "olla started" log record (health transitions may be logged before it). */
async function startedLine(
  stdout: ReadableStream<Uint8Array>,
): Promise<{ listen: string; [key: string]: unknown }> {
  let text = "";
  for await (const chunk of stdout) {
    text += new TextDecoder().decode(chunk);
    const line = text.split("\n").find((candidate) => candidate.includes('"olla started"'));
    if (line) return JSON.parse(line);
  }
  throw new Error(`olla exited without starting:\n${text}`);
}

async function serveOnce(env: Record<string, string>) {
  const cwd = mkdtempSync(join(work, "run-"));
  // A stray .env in the working directory must not be read by the binary.
  writeFileSync(join(cwd, ".env"), "OLLA_SERVER_PORT=1\n");
  const proc = Bun.spawn([binary], {
    cwd,
    env: cleanEnv({ OLLA_SERVER_PORT: "0", OLLA_SERVER_HOST: "127.0.0.1", ...env }),
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const started = await startedLine(proc.stdout);
    const health = await fetch(`${started.listen}internal/health`);
    return { started, health: await health.json() };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

test("--version shows the stamped commit and date", async () => {
  const proc = Bun.spawn([binary, "--version"], { stdout: "pipe", env: cleanEnv() });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(out).toContain("commit testcommit, built 2026-01-02T03:04:05Z");
});

test("serves from an empty folder with the embedded defaults, limits lifted", async () => {
  const { started, health } = await serveOnce({});
  expect(health).toEqual({ status: "healthy" });
  expect(started.config).toBe("built-in defaults");
  expect(started.endpoints).toBe(3);
  expect(started.fetch_max_requests).toBe(65535);
});

test("reads OLLA_CONFIG_FILE", async () => {
  const file = join(work, "custom.yaml");
  writeFileSync(
    file,
    "discovery:\n  static:\n    endpoints:\n      - url: http://127.0.0.1:9\n        name: one\n",
  );
  const { started } = await serveOnce({ OLLA_CONFIG_FILE: file });
  expect(started.config).toBe(file);
  expect(started.endpoints).toBe(1);
});
