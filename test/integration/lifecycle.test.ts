// Start-up and shutdown: graceful drain within server.shutdown_timeout, signals, and the
// one-time relaunch that gives Bun its start-up-only limits.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRouter, startHttpServer } from "../../src/http/index.ts";
import { createLogger } from "../../src/log/index.ts";
import { startFakeUpstream } from "../support/index.ts";
import { endpointsYaml } from "../support/olla-app.ts";
import { type RunningOlla, startOlla } from "../support/olla-process.ts";

const quiet = createLogger({ level: "error", format: "json", write: () => {} });

function slowServer(delayMs: number) {
  let entered = 0;
  const server = startHttpServer({
    host: "127.0.0.1",
    port: 0,
    idleTimeoutSeconds: 30,
    maxRequestBodySize: 1024,
    logger: quiet,
    router: createRouter([
      {
        methods: ["GET"],
        path: "/slow",
        handler: async () => {
          entered++;
          await Bun.sleep(delayMs);
          return new Response("finished");
        },
      },
    ]),
  });
  const untilEntered = async () => {
    for (let i = 0; i < 200 && entered === 0; i++) await Bun.sleep(10);
  };
  return { server, untilEntered };
}

describe("graceful stop", () => {
  test("an in-flight request finishes; new connections are refused", async () => {
    const { server, untilEntered } = slowServer(600);
    const inFlight = fetch(new URL("/slow", server.url));
    await untilEntered();
    expect(server.pending()).toBe(1);
    const stopping = server.stop(5000);
    await Bun.sleep(50);
    await expect(fetch(new URL("/slow", server.url))).rejects.toThrow();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("finished");
    expect(await stopping).toEqual({ drained: true });
  });

  test("past the grace period what is left is cut", async () => {
    const { server, untilEntered } = slowServer(10_000);
    const inFlight = fetch(new URL("/slow", server.url)).then(
      (response) => response.text(),
      (error: Error) => `failed: ${error.message}`,
    );
    await untilEntered();
    const began = performance.now();
    expect(await server.stop(300)).toEqual({ drained: false });
    expect(performance.now() - began).toBeLessThan(3000);
    expect(await inFlight).toStartWith("failed");
  });
});

describe("the olla process", () => {
  const running: RunningOlla[] = [];
  afterAll(() => {
    for (const olla of running) olla.kill();
  });

  test("SIGTERM stops it cleanly with exit 0; SIGINT too", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const olla = await startOlla([], { env: { OLLA_ENGINEERING_SHOW_NERDSTATS: "true" } });
      running.push(olla);
      olla.signal(signal);
      expect(await olla.exited).toBe(0);
      const records = olla.lines.map((line) => JSON.parse(line));
      expect(records.find((record) => record.msg === "shutting down")).toMatchObject({
        signal,
        grace_ms: 10_000,
      });
      expect(records.find((record) => record.msg === "nerdstats").rss_bytes).toBeGreaterThan(0);
      expect(records.at(-1)).toMatchObject({ msg: "olla stopped", drained: true });
    }
  });

  test("SIGTERM lets an in-flight streamed answer finish before exiting", async () => {
    const upstream = await startFakeUpstream({ kind: "ollama", chunks: 10, chunkDelayMs: 60 });
    const dir = mkdtempSync(join(tmpdir(), "olla-drain-"));
    const config = join(dir, "config.yaml");
    writeFileSync(config, endpointsYaml([{ name: "slow", url: upstream.url, type: "ollama" }]));
    try {
      const olla = await startOlla(["-c", config]);
      running.push(olla);
      const response = await fetch(`${olla.url}/olla/api/generate`, {
        method: "POST",
        body: JSON.stringify({ model: "llama3.2:latest", prompt: "x" }),
      });
      olla.signal("SIGTERM");
      const lines = (await response.text()).trim().split("\n");
      expect(JSON.parse(lines.at(-1)!)).toMatchObject({ done: true });
      expect(lines).toHaveLength(11);
      expect(await olla.exited).toBe(0);
      const stopped = olla.lines
        .map((line) => JSON.parse(line))
        .find((record) => record.msg === "olla stopped");
      expect(stopped).toMatchObject({ drained: true });
    } finally {
      await upstream.stop();
    }
  });

  test("relaunches once so Bun's fetch limit and header limit are set", async () => {
    const olla = await startOlla();
    running.push(olla);
    const started = await olla.waitForLog("olla started");
    expect(started.fetch_max_requests).toBe(65535);
    const environ = readFileSync(`/proc/${olla.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("BUN_CONFIG_MAX_HTTP_REQUESTS=65535");
    expect(environ).toContain(`BUN_OPTIONS=--max-http-header-size=${1024 * 1024}`);
    // Bun's default header limit is 16 KiB; server.request_limits.max_header_size (1 MiB) applies instead.
    const big = await fetch(`${olla.url}/internal/health`, { headers: { "x-big": "a".repeat(40_000) } });
    expect(big.status).toBe(200);
  });

  test("the relaunched process is handed the loaded config; secrets are resolved there, not handed over", async () => {
    const upstream = await startFakeUpstream({ kind: "ollama" });
    const dir = mkdtempSync(join(tmpdir(), "olla-handoff-"));
    const config = join(dir, "config.yaml");
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "s3cret-from-file\n");
    const auth = `        auth: {type: bearer, token_file: ${tokenFile}}\n        headers: {x-team: "\${TEAM}"}\n`;
    // proxy.unknown_knob: a warning found while loading, which the serving process must still log.
    writeFileSync(
      config,
      `${endpointsYaml([{ name: "gpu", url: upstream.url, type: "ollama", extra: auth }])}\nproxy:\n  unknown_knob: 1\n`,
    );
    try {
      const olla = await startOlla(["-c", config], { env: { TEAM: "s3cret-team" } });
      running.push(olla);
      expect(await olla.waitForLog("olla started")).toMatchObject({ config, endpoints: 1 });
      expect(olla.lines.some((line) => line.includes("proxy.unknown_knob"))).toBe(true);
      const response = await fetch(`${olla.url}/olla/api/generate`, {
        method: "POST",
        body: JSON.stringify({ model: "llama3.2:latest", prompt: "x", stream: false }),
      });
      expect(response.status).toBe(200);
      expect(upstream.requests.at(-1)?.headers).toMatchObject({
        authorization: "Bearer s3cret-from-file",
        "x-team": "s3cret-team",
      });
      // execve keeps the pid: this is the serving process's environment, hand-off included.
      const environ = readFileSync(`/proc/${olla.pid}/environ`, "utf8");
      const handoff = environ.split("\0").find((entry) => entry.startsWith("OLLA_LOADED_CONFIG="));
      expect(handoff).toContain(tokenFile);
      expect(handoff).toContain("${TEAM}");
      expect(handoff).not.toContain("s3cret-from-file");
    } finally {
      await upstream.stop();
    }
  });

  test("a config too large to hand over is loaded again by the relaunched process", async () => {
    const dir = mkdtempSync(join(tmpdir(), "olla-big-"));
    const config = join(dir, "config.yaml");
    // 500 endpoints make about 115 KB of hand-off JSON, over the 96 KiB limit.
    const endpoints = Array.from(
      { length: 500 },
      (_, i) =>
        `      - {name: gpu-${i}, url: "http://127.0.0.1:${10_000 + i}", type: ollama, check_interval: 60s}\n`,
    );
    writeFileSync(config, `discovery:\n  static:\n    endpoints:\n${endpoints.join("")}`);
    const olla = await startOlla(["-c", config]);
    running.push(olla);
    expect(await olla.waitForLog("olla started")).toMatchObject({
      config,
      endpoints: 500,
      fetch_max_requests: 65535,
    });
    const environ = readFileSync(`/proc/${olla.pid}/environ`, "utf8").split("\0");
    expect(environ.some((entry) => entry.startsWith("OLLA_LOADED_CONFIG="))).toBe(false);
    expect((await fetch(`${olla.url}/internal/health`)).status).toBe(200);
  });

  test("a hand-off copied from another process's environment is ignored", async () => {
    const stale = JSON.stringify({ pid: 1, config: { server: { port: 1 } }, profiles: [], problems: [] });
    const empty = mkdtempSync(join(tmpdir(), "olla-stale-"));
    const olla = await startOlla([], { cwd: empty, env: { OLLA_LOADED_CONFIG: stale } });
    running.push(olla);
    expect(await olla.waitForLog("olla started")).toMatchObject({ config: "built-in defaults" });
    expect((await fetch(`${olla.url}/internal/health`)).status).toBe(200);
  });

  test("server.request_limits.max_header_size is enforced; a user's own fetch limit is kept", async () => {
    const olla = await startOlla([], {
      env: { OLLA_SERVER_MAX_HEADER_SIZE: "8KiB", BUN_CONFIG_MAX_HTTP_REQUESTS: "1000" },
    });
    running.push(olla);
    expect((await olla.waitForLog("olla started")).fetch_max_requests).toBe(1000);
    const small = await fetch(`${olla.url}/internal/health`, { headers: { "x-big": "a".repeat(4000) } });
    expect(small.status).toBe(200);
    const big = await fetch(`${olla.url}/internal/health`, { headers: { "x-big": "a".repeat(12_000) } });
    expect(big.status).toBe(431);
  });
});
