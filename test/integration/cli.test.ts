// The real CLI as users run it: exit codes, messages, and the server it starts.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { type RunningOlla, runOlla, startOlla } from "../support/olla-process.ts";

let empty: string;
const running: RunningOlla[] = [];
beforeAll(() => {
  empty = mkdtempSync(join(tmpdir(), "olla-cli-"));
});
afterAll(() => {
  for (const olla of running) olla.kill();
  rmSync(empty, { recursive: true, force: true });
});

/** A serving olla whose stdout is not read (for logs that go elsewhere). */
function startTestProcess(env: Record<string, string>) {
  return Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts")], {
    cwd: empty,
    env: { ...process.env, OLLA_SERVER_PORT: "0", OLLA_SERVER_HOST: "127.0.0.1", ...env },
    stdout: "ignore",
    stderr: "ignore",
  });
}

function file(name: string, text: string): string {
  const path = join(empty, name);
  writeFileSync(path, text);
  return path;
}

describe("olla --version / --help", () => {
  test("--version names version, commit, Bun and the platform", async () => {
    const { code, stdout } = await runOlla(["--version"]);
    expect(code).toBe(0);
    const version = JSON.parse(readFileSync(join(import.meta.dir, "../../package.json"), "utf8")).version;
    expect(stdout).toContain(`olla ${version}`);
    expect(stdout).toContain(`bun ${process.versions.bun}`);
    expect(stdout).toContain(`${process.platform}/${process.arch}`);
  });

  test("OLLA_SHOW_VERSION=true prints the version too", async () => {
    const { code, stdout } = await runOlla([], { env: { OLLA_SHOW_VERSION: "true" } });
    expect(code).toBe(0);
    expect(stdout).toStartWith("olla ");
  });

  test("--help lists the commands; a bad flag is a usage error (exit 2)", async () => {
    const help = await runOlla(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["validate", "config", "health", "--version"])
      expect(help.stdout).toContain(command);
    const bad = await runOlla(["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("frobnicate");
  });
});

describe("olla validate", () => {
  test("a clean file exits 0", async () => {
    const path = file("clean.yaml", "server:\n  port: 8080\n");
    const { code, stdout } = await runOlla(["validate", "-c", path]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${path}: OK`);
  });

  test("warnings only exit 1 and are printed", async () => {
    const path = file("warn.yaml", "server:\n  prot: 8080\n");
    const { code, stderr } = await runOlla(["validate", "-c", path]);
    expect(code).toBe(1);
    expect(stderr).toContain("warning: server.prot");
    expect(stderr).toContain("did you mean server.port?");
  });

  test("errors exit 2, each printed with key, value and origin", async () => {
    const path = file("bad.yaml", "server:\n  port: high\nproxy:\n  engine: warp\n");
    const { code, stderr } = await runOlla(["validate", "-c", path], { env: { OLLA_LOGGING_LEVEL: "loud" } });
    expect(code).toBe(2);
    expect(stderr).toContain(`error: server.port = "high" (from ${path}): expected a whole number`);
    expect(stderr).toContain(`error: proxy.engine = "warp" (from ${path}): expected one of olla, sherpa`);
    expect(stderr).toContain('error: logging.level = "loud" (from env OLLA_LOGGING_LEVEL)');
    expect(stderr).toContain("3 error(s)");
  });
});

describe("profiles beside the config file", () => {
  test("a profile in <config dir>/profiles adds an endpoint type; a broken one fails validation by name", async () => {
    const dir = mkdtempSync(join(empty, "with-profiles-"));
    mkdirSync(join(dir, "profiles"));
    writeFileSync(
      join(dir, "profiles", "koboldcpp.yaml"),
      "name: koboldcpp\nrouting:\n  prefixes: [kobold]\napi:\n  health_check_path: /api/v1/info/version\n  model_discovery_path: /v1/models\n",
    );
    const config = join(dir, "config.yaml");
    writeFileSync(
      config,
      "discovery:\n  static:\n    endpoints:\n      - {url: 'http://127.0.0.1:5001', type: kobold}\n",
    );
    const ok = await runOlla(["validate", "-c", config]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    writeFileSync(join(dir, "profiles", "broken.yaml"), "name: [not, a, name]\n");
    const bad = await runOlla(["validate", "-c", config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`profile ${join(dir, "profiles", "broken.yaml")}`);
  });

  test("proxy.profile_filter removes types: endpoints of a filtered-out type are errors", async () => {
    const config = file(
      "filtered.yaml",
      "proxy:\n  profile_filter:\n    exclude: [vllm]\ndiscovery:\n  static:\n    endpoints:\n      - {url: 'http://127.0.0.1:8000', type: vllm}\n",
    );
    const { code, stderr } = await runOlla(["validate", "-c", config]);
    expect(code).toBe(2);
    expect(stderr).toContain("unknown endpoint type");
  });
});

describe("olla config", () => {
  test("prints the merged config as YAML, secrets masked, readable again", async () => {
    const path = file(
      "secrets.yaml",
      `discovery:
  static:
    endpoints:
      - url: http://127.0.0.1:9/?api_key=abc123
        name: gpu
        auth: {type: bearer, token: "\${GPU_TOKEN}"}
        headers: {X-Api-Key: plain-secret, X-Team: ml}
`,
    );
    const { code, stdout } = await runOlla(["config", "-c", path], {
      env: { GPU_TOKEN: "tok-supersecret", OLLA_PROXY_READ_TIMEOUT: "90s" },
    });
    expect(code).toBe(0);
    expect(stdout).not.toContain("tok-supersecret");
    expect(stdout).not.toContain("plain-secret");
    expect(stdout).not.toContain("abc123");
    const shown = parse(stdout);
    expect(shown.proxy.read_timeout).toBe("1m30s");
    expect(shown.server.request_limits.max_body_size).toBe("100MiB");
    expect(shown.discovery.static.endpoints[0].auth).toEqual({ type: "bearer", token: "****" });
    expect(shown.discovery.static.endpoints[0].headers["X-Team"]).toBe("ml");
    // Printed config reads back to the same effective config (secrets aside: they print masked).
    const again = await runOlla(["config", "-c", file("roundtrip.yaml", stdout)], {
      env: { GPU_TOKEN: "x" },
    });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("error:");
    expect(again.stdout).toBe(stdout);
  });

  test("a bad config exits 2", async () => {
    const { code, stderr } = await runOlla(["config"], { env: { OLLA_SERVER_PORT: "-1" } });
    expect(code).toBe(2);
    expect(stderr).toContain("server.port");
  });
});

describe("olla serve", () => {
  test("starts with no config file at all and answers /internal/health", async () => {
    const olla = await startOlla([], { cwd: empty });
    running.push(olla);
    const started = await olla.waitForLog("olla started");
    expect(started.config).toBe("built-in defaults");
    expect(started.endpoints).toBe(3);
    const health = await fetch(`${olla.url}/internal/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "healthy" });
    expect(health.headers.get("x-olla-request-id")).toBeTruthy();
    const version = (await (await fetch(`${olla.url}/version`)).json()) as { supported_backends: string[] };
    expect(version).toMatchObject({ name: "olla", build: { runtime: `bun ${process.versions.bun}` } });
    expect(version.supported_backends).toContain("ollama");
    const missing = await fetch(`${olla.url}/no/such/path`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  test("`olla health` checks a running olla", async () => {
    const olla = running[0]!;
    const ok = await runOlla(["health", "--url", olla.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("healthy");
    const down = await runOlla(["health", "--url", "http://127.0.0.1:9"]);
    expect(down.code).toBe(1);
  });

  test("a bad config never starts a server: exit 2 with the problem", async () => {
    const { code, stderr } = await runOlla([], { env: { OLLA_PROXY_LOAD_BALANCER: "random" } });
    expect(code).toBe(2);
    expect(stderr).toContain("proxy.load_balancer");
    expect(stderr).toContain("not starting");
  });

  test("a port that is taken is a clear error, exit 1", async () => {
    const taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const { code, stderr } = await runOlla([], {
        cwd: empty,
        env: { OLLA_SERVER_HOST: "127.0.0.1", OLLA_SERVER_PORT: String(taken.port) },
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${taken.port}`);
      expect(stderr).toContain("OLLA_SERVER_PORT");
    } finally {
      taken.stop(true);
    }
  });

  test("a second olla on the port of a running one is the same clear error (no shared port)", async () => {
    const first = await startOlla([], {
      cwd: empty,
      env: { OLLA_SERVER_HOST: "127.0.0.1", OLLA_SERVER_PORT: "0" },
    });
    try {
      const port = new URL(first.url).port;
      const { code, stderr } = await runOlla([], {
        cwd: empty,
        env: { OLLA_SERVER_HOST: "127.0.0.1", OLLA_SERVER_PORT: port },
      });
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(stderr).not.toContain("?.");
    } finally {
      first.signal("SIGTERM");
      await first.exited;
    }
  });

  test("config warnings are logged at start", async () => {
    const olla = await startOlla(["-c", file("typo.yaml", "logging:\n  levle: debug\n")], { cwd: empty });
    running.push(olla);
    const warning = olla.lines.map((line) => JSON.parse(line)).find((record) => record.level === "warn");
    expect(warning.msg).toContain("logging.levle");
    // The line's level says it: no "warning:" inside the message as well.
    expect(warning.msg).not.toStartWith("warning");
    olla.kill();
  });

  test("logging.output: file writes the log to logging.file (folders created), to the last line at stop", async () => {
    const logFile = join(empty, "logs", "nested", "olla.log");
    const olla = await startTestProcess({ OLLA_LOGGING_OUTPUT: "file", OLLA_LOGGING_FILE: logFile });
    try {
      for (let i = 0; i < 100 && !(await Bun.file(logFile).exists()); i++) await Bun.sleep(20);
      for (let i = 0; i < 100 && !(await Bun.file(logFile).text()).includes("olla started"); i++)
        await Bun.sleep(20);
      const lines = (await Bun.file(logFile).text()).trim().split("\n");
      expect(lines.some((line) => JSON.parse(line).msg === "olla started")).toBe(true);
      // Stopping writes what is pending before the file is closed: the last line is the stop.
      olla.kill("SIGTERM");
      expect(await olla.exited).toBe(0);
      const last = (await Bun.file(logFile).text()).trim().split("\n").at(-1)!;
      expect(JSON.parse(last)).toMatchObject({ msg: "olla stopped", drained: true });
    } finally {
      olla.kill("SIGKILL");
      await olla.exited;
    }
  });

  test("a log file olla cannot open stops it at start-up, naming logging.file and the cause", async () => {
    const { code, stderr } = await runOlla([], {
      cwd: empty,
      env: { OLLA_SERVER_PORT: "0", OLLA_LOGGING_OUTPUT: "file", OLLA_LOGGING_FILE: empty },
    });
    expect(code).toBe(2);
    expect(stderr).toContain(`cannot open the log file ${empty} (logging.file)`);
    expect(stderr).toContain("EISDIR");
    expect(stderr).not.toContain("    at ");
  });

  test("pretty and text formats start too", async () => {
    for (const format of ["pretty", "text"]) {
      const proc = Bun.spawn([process.execPath, join(import.meta.dir, "../../src/main.ts")], {
        cwd: empty,
        env: {
          ...process.env,
          OLLA_SERVER_PORT: "0",
          OLLA_SERVER_HOST: "127.0.0.1",
          OLLA_LOGGING_FORMAT: format,
        },
        stdout: "pipe",
      });
      let text = "";
      for await (const chunk of proc.stdout) {
        text += new TextDecoder().decode(chunk);
        if (text.includes("olla started")) break;
      }
      proc.kill("SIGKILL");
      const line = text.split("\n").find((candidate) => candidate.includes("olla started"))!;
      expect(line).toBeDefined();
      expect(line.startsWith("{")).toBe(false);
    }
  });
});
