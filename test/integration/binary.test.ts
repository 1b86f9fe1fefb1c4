// The standalone binary built by build.ts: runs from an empty folder with no config, relaunches
// itself with Bun's start-up limits, reads OLLA_CONFIG_FILE, answers `olla health`; the release
// archives (tar.gz, and zip for Windows) and SHA256SUMS; and the cross-compiled linux-arm64 build.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateRawSync } from "node:zlib";
import {
  archiveEntries,
  archiveName,
  archiveTarget,
  buildTarget,
  hostTarget,
  sha256,
  VERSION,
  writeChecksums,
} from "../../build.ts";
import { cleanEnv, runCommand, startedLine, versionOf } from "../support/olla-process.ts";
import { withTimeout } from "../support/with-timeout.ts";

const ROOT = join(import.meta.dir, "../..");
const STAMP = { commit: "testcommit", date: "2026-01-02T03:04:05Z" };

let work: string;
let binary: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "olla-binary-"));
  binary = await buildTarget(hostTarget(), work, STAMP, { timeoutMs: 120_000 });
}, 150_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `olla` (the binary) with args to completion, bounded. */
const run = (args: string[], env: Record<string, string> = {}) =>
  runCommand([binary, ...args], { env: cleanEnv(env) });

/** Starts the binary in a fresh folder (with a stray .env and bunfig.toml), hands it to `check`, then
 * stops it. */
async function serving<T>(
  env: Record<string, string>,
  check: (started: { listen: string; [key: string]: unknown }, pid: number) => Promise<T>,
): Promise<T> {
  const cwd = mkdtempSync(join(work, "run-"));
  // A stray .env and bunfig.toml in the working directory must not be read by the binary: the .env
  // names a config file that does not exist (start-up would fail; the environment sets no such
  // variable to hide it), and the bunfig preloads a script that throws.
  writeFileSync(join(cwd, ".env"), "OLLA_CONFIG_FILE=/nonexistent/olla.yaml\n");
  writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./boom.ts"]\n');
  writeFileSync(join(cwd, "boom.ts"), 'throw new Error("bunfig.toml was read");\n');
  const proc = Bun.spawn([binary], {
    cwd,
    env: cleanEnv({ OLLA_SERVER_PORT: "0", OLLA_SERVER_HOST: "127.0.0.1", ...env }),
    stdout: "pipe",
    stderr: "pipe",
    timeout: 60_000,
  });
  try {
    const started = await withTimeout(startedLine(proc.stdout), 15_000, "olla start");
    return await check(started, proc.pid);
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

async function healthOf(listen: string): Promise<unknown> {
  const response = await fetch(`${listen}internal/health`, { signal: AbortSignal.timeout(5000) });
  return response.json();
}

describe("the host binary", () => {
  test("--version shows the package version, stamped commit and date", async () => {
    const { code, stdout } = await run(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toStartWith(`olla ${VERSION} (commit testcommit, built 2026-01-02T03:04:05Z) bun `);
  });

  test("serves from an empty folder with the embedded defaults and profiles, limits lifted", async () => {
    await serving({}, async (started) => {
      expect(await healthOf(started.listen)).toEqual({ status: "healthy" });
      expect(started.config).toBe("built-in defaults");
      expect(started.endpoints).toBe(3);
      // The default endpoints' types (ollama, lm-studio, vllm) come from the embedded profiles:
      // without them start-up would stop with a configuration error.
      expect(started.fetch_max_requests).toBe(65535);
      // The Anthropic translation is imported on first use: it must be inside the binary too.
      const models = await fetch(`${started.listen}olla/anthropic/v1/models`, {
        signal: AbortSignal.timeout(5000),
      });
      expect(models.status).toBe(200);
      expect(await models.json()).toMatchObject({ data: [], has_more: false });
      const bad = await fetch(`${started.listen}olla/anthropic/v1/messages`, {
        method: "POST",
        body: "{not json",
        signal: AbortSignal.timeout(5000),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    });
  });

  test("reads OLLA_CONFIG_FILE, and extra profiles beside it (the image's /config/profiles)", async () => {
    const dir = join(work, "image-config");
    mkdirSync(join(dir, "profiles"), { recursive: true });
    writeFileSync(
      join(dir, "profiles", "koboldcpp.yaml"),
      "name: koboldcpp\nrouting:\n  prefixes: [kobold]\napi:\n  health_check_path: /api/v1/info/version\n  model_discovery_path: /v1/models\n",
    );
    const file = join(dir, "custom.yaml");
    // An endpoint of a type only the extra profile defines: without it start-up stops (exit 2).
    writeFileSync(
      file,
      "discovery:\n  static:\n    endpoints:\n      - url: http://127.0.0.1:9\n        name: one\n" +
        "      - {url: 'http://127.0.0.1:5001', name: kobold, type: kobold}\n",
    );
    await serving({ OLLA_CONFIG_FILE: file }, async (started) => {
      expect(started.config).toBe(file);
      expect(started.endpoints).toBe(2);
      expect(await healthOf(started.listen)).toEqual({ status: "healthy" });
    });
  });

  test("`olla health` exits 0 against a running olla, 1 when nothing answers", async () => {
    await serving({}, async (started) => {
      const healthy = await run(["health", "--url", started.listen]);
      expect(healthy.stdout).toContain('200 {"status":"healthy"}');
      expect(healthy.code).toBe(0);
      // Without --url it finds the port from the same config and env as the server (as in the image).
      const port = new URL(started.listen).port;
      const fromConfig = await run(["health"], { OLLA_SERVER_PORT: port, OLLA_SERVER_HOST: "0.0.0.0" });
      expect(fromConfig.code).toBe(0);
    });
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const url = `http://127.0.0.1:${closed.port}`;
    await closed.stop(true);
    const down = await run(["health", "--url", url]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("did not answer");
  });

  test.skipIf(process.platform !== "linux")(
    "idle memory stays small (RSS after start, with the default endpoints probed)",
    async () => {
      const rssMiB = await serving({}, async (_started, pid) => {
        await Bun.sleep(2000);
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) / 1024;
      });
      console.log(`idle RSS of the ${hostTarget()} binary: ${rssMiB.toFixed(1)} MiB`);
      expect(rssMiB).toBeGreaterThan(5);
      expect(rssMiB).toBeLessThan(120);
    },
  );
});

describe("release archives", () => {
  test("tar.gz: one top folder with the binary (executable), config, profiles, LICENSE, README", async () => {
    const dist = mkdtempSync(join(work, "dist-"));
    // Level 1: the test checks the layout, not the compression ratio (level 9 is the release default).
    const archive = archiveTarget(hostTarget(), binary, dist, { level: 1, date: new Date(STAMP.date) });
    expect(archive).toBe(join(dist, `olla-${VERSION}-${hostTarget()}.tar.gz`));

    const unpacked = mkdtempSync(join(work, "unpacked-"));
    const tar = Bun.spawnSync(["tar", "-xzf", archive, "-C", unpacked], { timeout: 60_000 });
    expect(tar.exitCode).toBe(0);
    const top = join(unpacked, `olla-${VERSION}-${hostTarget()}`);
    expect(readdirSync(unpacked)).toEqual([`olla-${VERSION}-${hostTarget()}`]);
    expect(readdirSync(top).sort()).toEqual(["LICENSE", "README.md", "config", "olla"]);
    expect(readdirSync(join(top, "config/profiles")).sort()).toEqual(
      readdirSync(join(ROOT, "config/profiles"))
        .filter((name) => name.endsWith(".yaml"))
        .sort(),
    );
    expect(readFileSync(join(top, "config/config.yaml"), "utf8")).toBe(
      readFileSync(join(ROOT, "config/config.yaml"), "utf8"),
    );
    expect(statSync(join(top, "olla")).mode & 0o777).toBe(0o755);
    expect(statSync(join(top, "config/config.yaml")).mode & 0o777).toBe(0o644);
    const unpackedBinary = join(top, "olla");
    expect(await versionOf(unpackedBinary)).toContain(`olla ${VERSION} (commit testcommit`);

    // SHA256SUMS in sha256sum's format, checked by sha256sum itself where it exists.
    const sums = writeChecksums(dist);
    const name = archiveName(hostTarget());
    expect(readFileSync(sums, "utf8")).toBe(`${sha256(archive)}  ${name}\n`);
    if (Bun.which("sha256sum")) {
      const check = Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: dist, timeout: 60_000 });
      expect(check.stdout.toString()).toBe(`${name}: OK\n`);
      expect(check.exitCode).toBe(0);
    }
  }, 60_000);

  test("zip for Windows: every entry, byte for byte, with CRCs and modes, readable by unzip", () => {
    const dist = mkdtempSync(join(work, "zip-"));
    // A small random stand-in for olla.exe: deflate cannot shrink it, so it is stored; the text
    // files are deflated. Both paths of the writer are read back.
    const exe = join(dist, "fake.exe");
    writeFileSync(exe, crypto.getRandomValues(new Uint8Array(60_000)));
    const archive = archiveTarget("windows-x64", exe, dist, { date: new Date(STAMP.date) });
    expect(archive).toBe(join(dist, `olla-${VERSION}-windows-x64.zip`));

    const expected = archiveEntries("windows-x64", exe);
    const entries = readZip(readFileSync(archive));
    expect(entries.map((entry) => entry.path)).toEqual(expected.map((entry) => entry.path));
    expect(entries.map((entry) => entry.path)).toContain(`olla-${VERSION}-windows-x64/olla.exe`);
    expect(new Set(entries.map((entry) => entry.method))).toEqual(new Set([0, 8]));
    for (const [index, entry] of entries.entries()) {
      expect(Buffer.compare(entry.data, expected[index]!.data)).toBe(0);
      expect(entry.crcOk).toBe(true);
      expect(entry.mode & 0o777).toBe(expected[index]!.mode);
    }
    if (Bun.which("unzip")) {
      const check = Bun.spawnSync(["unzip", "-tq", archive], { timeout: 30_000 });
      expect(check.stdout.toString()).toContain("No errors detected");
    }
  });

  test("SHA256SUMS lists only this version's archives, sorted", () => {
    const dist = mkdtempSync(join(work, "sums-"));
    for (const name of [
      archiveName("linux-x64"),
      archiveName("windows-x64"),
      "olla-0.0.1-linux-x64.tar.gz",
      "x.txt",
    ])
      writeFileSync(join(dist, name), name);
    const lines = readFileSync(writeChecksums(dist), "utf8").trim().split("\n");
    expect(lines.map((line) => line.split("  ")[1])).toEqual([
      archiveName("linux-x64"),
      archiveName("windows-x64"),
    ]);
    expect(lines[0]).toMatch(/^[0-9a-f]{64} {2}/);
  });
});

/** A minimal zip reader (central directory → local data), enough to check what build/archive.ts writes. */
function readZip(bytes: Uint8Array) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length - 22;
  expect(view.getUint32(end, true)).toBe(0x06054b50);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const decoder = new TextDecoder();
  const entries: { path: string; data: Uint8Array; mode: number; method: number; crcOk: boolean }[] = [];
  for (let index = 0; index < count; index++) {
    expect(view.getUint32(at, true)).toBe(0x02014b50);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const compressed = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const mode = view.getUint32(at + 38, true) >>> 16;
    const local = view.getUint32(at + 42, true);
    const path = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    expect(view.getUint32(local, true)).toBe(0x04034b50);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const raw = bytes.subarray(start, start + compressed);
    const data = method === 8 ? new Uint8Array(inflateRawSync(raw)) : raw;
    entries.push({ path, data, mode, method, crcOk: Bun.hash.crc32(data) === crc });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// Cross-compiling fetches Bun's linux-arm64 runtime (from the npm registry) on first use. Probe it
// before the tests are declared, so a machine without that download skips with the reason.
const arm64 = await (async () => {
  const dir = mkdtempSync(join(tmpdir(), "olla-arm64-"));
  try {
    const path = await buildTarget("linux-arm64", dir, STAMP, { timeoutMs: 120_000 });
    return { header: readFileSync(path).subarray(0, 4096), dir, error: undefined };
  } catch (error) {
    return { header: undefined, dir, error: (error as Error).message };
  }
})();
const arm64Unavailable =
  /download|fetch|network|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|timed out|certificate/i.test(arm64.error ?? "");
if (arm64Unavailable)
  console.warn(`skipping the linux-arm64 build check: Bun's runtime could not be fetched: ${arm64.error}`);
afterAll(() => rmSync(arm64.dir, { recursive: true, force: true }));

describe("cross-compiled linux-arm64", () => {
  test.skipIf(arm64Unavailable)(
    `is a 64-bit little-endian aarch64 ELF for glibc${arm64Unavailable ? " (skipped: Bun's linux-arm64 runtime could not be downloaded)" : ""}`,
    () => {
      if (arm64.error) throw new Error(arm64.error);
      const header = arm64.header!;
      const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      expect([...header.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]); // \x7fELF
      expect(header[4]).toBe(2); // ELFCLASS64
      expect(header[5]).toBe(1); // little-endian
      expect(view.getUint16(18, true)).toBe(183); // EM_AARCH64
      // Its program interpreter (near the start of the file) is glibc's aarch64 loader, not musl's.
      expect(new TextDecoder().decode(header)).toContain("/lib/ld-linux-aarch64.so.1");
    },
  );
});
