// install.sh end to end: a local HTTP server on 127.0.0.1 plays the GitHub release (archives and
// SHA256SUMS built by build.ts for this machine), `uname`/`ldd` are shimmed on PATH to play other
// machines, and the script runs under the system's POSIX sh.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  archiveName,
  archiveTarget,
  buildTarget,
  hostTarget,
  sha256,
  VERSION,
  writeChecksums,
  TARGETS,
} from "../../build.ts";
import { runCommand, versionOf } from "../support/olla-process.ts";

const ROOT = join(import.meta.dir, "../..");
const INSTALL_SH = join(ROOT, "install.sh");
const SH = Bun.which("sh") ?? "/bin/sh";

let work: string;
let server: ReturnType<typeof Bun.serve>;
let requests: string[] = [];
const files = new Map<string, Uint8Array>();
let archive: Uint8Array;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "olla-install-"));
  const dist = join(work, "dist");
  mkdirSync(dist);
  const binary = await buildTarget(
    hostTarget(),
    dist,
    { commit: "installtest", date: "2026-01-02T03:04:05Z" },
    { timeoutMs: 120_000 },
  );
  archive = readFileSync(archiveTarget(hostTarget(), binary, dist, { level: 1 }));
  const sums = readFileSync(writeChecksums(dist));
  const name = archiveName(hostTarget());
  // The same release under GitHub's two URL shapes: latest, and a tag.
  for (const base of ["/releases/latest/download", `/releases/download/v${VERSION}`]) {
    files.set(`${base}/SHA256SUMS`, sums);
    files.set(`${base}/${name}`, archive);
  }
  // A release whose archive was altered after SHA256SUMS was written.
  const tampered = new Uint8Array(archive); // a copy: Buffer#slice would share the bytes
  tampered[Math.floor(tampered.length / 2)]! ^= 0xff;
  files.set(`/tampered/latest/download/SHA256SUMS`, sums);
  files.set(`/tampered/latest/download/${name}`, tampered);
  // A release whose binary does not run here (as a glibc build on a musl system would not).
  const broken = join(work, "broken");
  mkdirSync(broken);
  writeFileSync(join(broken, "olla"), "#!/bin/sh\necho 'cannot run' >&2\nexit 126\n");
  archiveTarget(hostTarget(), join(broken, "olla"), broken, { level: 1 });
  files.set("/broken/latest/download/SHA256SUMS", readFileSync(writeChecksums(broken)));
  files.set(`/broken/latest/download/${name}`, readFileSync(join(broken, name)));
  // A release listing every target (no archives behind it): shows which one the script picks.
  const listing = TARGETS.filter((target) => !target.startsWith("windows"))
    .map((target) => `${"0".repeat(64)}  ${archiveName(target)}\n`)
    .join("");
  files.set("/listing/latest/download/SHA256SUMS", new TextEncoder().encode(listing));

  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push(path);
      const body = files.get(path);
      return body ? new Response(body) : new Response("Not Found", { status: 404 });
    },
  });
}, 150_000);

afterAll(async () => {
  await server?.stop(true);
  rmSync(work, { recursive: true, force: true });
});

/** A PATH folder whose `uname` (and optionally `ldd`) answer like another machine. */
function shim(system: string, machine: string, lddVersion?: string): string {
  const dir = mkdtempSync(join(work, "shim-"));
  const realUname = Bun.which("uname")!;
  writeFileSync(
    join(dir, "uname"),
    `#!/bin/sh\ncase "$1" in -s) echo ${system} ;; -m) echo ${machine} ;; *) exec ${realUname} "$@" ;; esac\n`,
  );
  chmodSync(join(dir, "uname"), 0o755);
  if (lddVersion) {
    writeFileSync(join(dir, "ldd"), `#!/bin/sh\necho '${lddVersion}'\n`);
    chmodSync(join(dir, "ldd"), 0o755);
  }
  return dir;
}

/** A PATH folder with every program on the current PATH except `without` (a machine lacking them). */
function pathWithout(without: readonly string[]): string {
  const dir = mkdtempSync(join(work, "path-"));
  for (const folder of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (without.includes(name)) continue;
      try {
        symlinkSync(join(folder, name), join(dir, name));
      } catch {
        // Already linked from an earlier PATH folder: that one wins, as it would on the PATH.
      }
    }
  }
  return dir;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Paths the release server was asked for during this run. */
  requested: string[];
  /** What the script left in its TMPDIR (should be nothing). */
  leftovers: string[];
}

/** Runs install.sh with a minimal environment (no proxies: the release server is on 127.0.0.1). */
async function install(args: string[], env: Record<string, string> = {}, path?: string): Promise<Run> {
  const home = mkdtempSync(join(work, "home-"));
  const temp = mkdtempSync(join(work, "tmp-"));
  requests = [];
  const { code, stdout, stderr } = await runCommand([SH, INSTALL_SH, ...args], {
    env: {
      PATH: path ?? process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      TMPDIR: temp,
      OLLA_RELEASE_URL: `${server.url.origin}/releases`,
      ...env,
    },
    timeoutMs: 60_000,
  });
  return { code, stdout, stderr, requested: [...requests], leftovers: readdirSync(temp) };
}

// .ci/run installs shellcheck: a machine without it fails here rather than skipping the check.
test("shellcheck finds nothing in install.sh", () => {
  if (!Bun.which("shellcheck")) throw new Error("shellcheck is not installed (apt-get install shellcheck)");
  const check = Bun.spawnSync(["shellcheck", "--shell=sh", "--severity=style", INSTALL_SH], {
    timeout: 60_000,
  });
  expect(check.stdout.toString() + check.stderr.toString()).toBe("");
  expect(check.exitCode).toBe(0);
});

describe("a good release", () => {
  test("installs the latest release into --prefix: binary, config, profiles, LICENSE, README", async () => {
    const prefix = join(work, "latest");
    const run = await install(["--prefix", prefix]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.requested).toEqual([
      "/releases/latest/download/SHA256SUMS",
      `/releases/latest/download/${archiveName(hostTarget())}`,
    ]);
    expect(await versionOf(join(prefix, "olla"))).toStartWith(`olla ${VERSION} (commit installtest,`);
    expect(readdirSync(prefix).sort()).toEqual(["LICENSE", "README.md", "config", "olla"]);
    expect(readFileSync(join(prefix, "config/config.yaml"), "utf8")).toBe(
      readFileSync(join(ROOT, "config/config.yaml"), "utf8"),
    );
    expect(readdirSync(join(prefix, "config/profiles")).sort()).toEqual(
      readdirSync(join(ROOT, "config/profiles")).sort(),
    );
    expect(run.stdout).toContain(`olla: installed olla ${VERSION}`);
    expect(run.stdout).toContain(`export PATH="${prefix}:$PATH"`);
    expect(run.leftovers).toEqual([]);
  });

  test("OLLA_VERSION (or --version) picks that tag; an upgrade keeps config.local.yaml and added profiles", async () => {
    const prefix = join(work, "pinned");
    const first = await install(["--prefix", prefix, "--version", `v${VERSION}`]);
    expect(first.code).toBe(0);
    expect(first.requested[0]).toBe(`/releases/download/v${VERSION}/SHA256SUMS`);

    const local = "server:\n  port: 12345 # mine\n";
    writeFileSync(join(prefix, "config/config.local.yaml"), local);
    writeFileSync(join(prefix, "config/profiles/my-platform.yaml"), "name: my-platform\n");
    writeFileSync(join(prefix, "config/config.yaml"), "# edited by hand\n");

    const again = await install([], { OLLA_VERSION: VERSION, OLLA_PREFIX: prefix });
    expect(again.code).toBe(0);
    expect(again.requested).toEqual([
      `/releases/download/v${VERSION}/SHA256SUMS`,
      `/releases/download/v${VERSION}/${archiveName(hostTarget())}`,
    ]);
    expect(readFileSync(join(prefix, "config/config.local.yaml"), "utf8")).toBe(local);
    expect(readFileSync(join(prefix, "config/profiles/my-platform.yaml"), "utf8")).toBe(
      "name: my-platform\n",
    );
    // Shipped files are the release's again.
    expect(readFileSync(join(prefix, "config/config.yaml"), "utf8")).toBe(
      readFileSync(join(ROOT, "config/config.yaml"), "utf8"),
    );
    expect(existsSync(join(prefix, ".olla.new"))).toBe(false);
    expect(await versionOf(join(prefix, "olla"))).toStartWith(`olla ${VERSION}`);
  });

  test.skipIf(!Bun.which("wget"))("works with wget when there is no curl", async () => {
    // A PATH with only the tools the script needs, wget instead of curl.
    const tools = mkdtempSync(join(work, "tools-"));
    const needed = [
      "uname",
      "grep",
      "head",
      "mktemp",
      "rm",
      "mkdir",
      "cp",
      "mv",
      "chmod",
      "tar",
      "gzip",
      "cut",
    ];
    for (const tool of [...needed, "wget", "sha256sum"]) {
      const real = Bun.which(tool);
      if (real) symlinkSync(real, join(tools, tool));
    }
    expect(Bun.which("curl", { PATH: tools })).toBeNull();
    const prefix = join(work, "wget");
    const run = await install(["--prefix", prefix], {}, tools);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(await versionOf(join(prefix, "olla"))).toStartWith(`olla ${VERSION}`);
  });
});

describe("nothing installed when something is wrong", () => {
  test("a tampered archive aborts on the checksum, leaving a new prefix absent", async () => {
    const prefix = join(work, "tampered-new");
    const run = await install(["--prefix", prefix], { OLLA_RELEASE_URL: `${server.url.origin}/tampered` });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("checksum mismatch");
    expect(run.stderr).toContain("nothing installed");
    expect(existsSync(prefix)).toBe(false);
    expect(run.leftovers).toEqual([]);
  });

  test("a tampered archive leaves an existing installation as it was", async () => {
    const prefix = join(work, "tampered-existing");
    expect((await install(["--prefix", prefix])).code).toBe(0);
    writeFileSync(join(prefix, "config/config.local.yaml"), "# mine\n");
    const before = sha256(join(prefix, "olla"));
    const listing = readdirSync(prefix, { recursive: true }).sort();
    const run = await install(["--prefix", prefix], { OLLA_RELEASE_URL: `${server.url.origin}/tampered` });
    expect(run.code).not.toBe(0);
    expect(sha256(join(prefix, "olla"))).toBe(before);
    expect(readdirSync(prefix, { recursive: true }).sort()).toEqual(listing);
    expect(readFileSync(join(prefix, "config/config.local.yaml"), "utf8")).toBe("# mine\n");
  });

  test("a binary that does not run on this machine is not installed", async () => {
    const prefix = join(work, "broken-install");
    const run = await install(["--prefix", prefix], { OLLA_RELEASE_URL: `${server.url.origin}/broken` });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("does not run on this machine");
    expect(existsSync(prefix)).toBe(false);
  });

  test("a release without SHA256SUMS is an error naming the URL", async () => {
    const prefix = join(work, "missing");
    const run = await install(["--prefix", prefix], { OLLA_RELEASE_URL: `${server.url.origin}/nowhere` });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `could not download ${server.url.origin}/nowhere/latest/download/SHA256SUMS`,
    );
    expect(existsSync(prefix)).toBe(false);
  });

  test("--help prints the usage and downloads nothing", async () => {
    const run = await install(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("usage: install.sh [--prefix DIR] [--version X.Y.Z]");
    expect(run.requested).toEqual([]);
  });

  test("an unknown option is refused", async () => {
    const run = await install(["--prefx", "/tmp/x"]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("unknown option: --prefx");
    expect(run.requested).toEqual([]);
  });
});

describe("the checksum tool", () => {
  // Each fallback really verifies: the tampered release is refused with it too.
  for (const [missing, uses] of [
    [["sha256sum"], "shasum"],
    [["sha256sum", "shasum"], "openssl"],
  ] as const) {
    test(`without ${missing.join(" and ")}, ${uses} checks the download`, async () => {
      const path = pathWithout(missing);
      expect(existsSync(join(path, uses))).toBe(true);
      const prefix = join(work, `via-${uses}`);
      const good = await install(["--prefix", prefix], {}, path);
      expect(good.stderr).toBe("");
      expect(good.code).toBe(0);
      expect(await versionOf(join(prefix, "olla"))).toStartWith(`olla ${VERSION}`);
      const bad = await install(
        ["--prefix", join(work, `via-${uses}-tampered`)],
        { OLLA_RELEASE_URL: `${server.url.origin}/tampered` },
        path,
      );
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("checksum mismatch");
    });
  }

  test("with none of them nothing is installed, and the error says what is needed", async () => {
    const prefix = join(work, "no-checksum-tool");
    const run = await install(["--prefix", prefix], {}, pathWithout(["sha256sum", "shasum", "openssl"]));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("needs sha256sum, shasum or openssl to verify the download");
    expect(existsSync(prefix)).toBe(false);
  });
});

describe("which archive for which machine", () => {
  test.each([
    ["Linux", "armv7l"],
    ["Linux", "armv6l"],
  ])("%s %s (32-bit Raspberry Pi OS): not supported, needs a 64-bit OS", async (system, machine) => {
    const run = await install(
      ["--prefix", join(work, "never")],
      {},
      `${shim(system, machine)}:${process.env.PATH}`,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${machine} (32-bit ARM) is not supported`);
    expect(run.stderr).toContain("64-bit");
    expect(run.requested).toEqual([]);
  });

  test("Linux i686: not supported", async () => {
    const run = await install([], {}, `${shim("Linux", "i686")}:${process.env.PATH}`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("not supported");
    expect(run.requested).toEqual([]);
  });

  test("Windows shells are sent to the .zip", async () => {
    const run = await install([], {}, `${shim("MINGW64_NT-10.0", "x86_64")}:${process.env.PATH}`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("download the .zip");
  });

  test.each([
    ["Linux", "x86_64", "glibc", "linux-x64"],
    ["Linux", "amd64", "glibc", "linux-x64"],
    ["Linux", "aarch64", "glibc", "linux-arm64"],
    ["Linux", "arm64", "glibc", "linux-arm64"],
    ["Linux", "x86_64", "musl", "linux-x64-musl"],
    ["Linux", "aarch64", "musl", "linux-arm64-musl"],
    ["Darwin", "arm64", "-", "darwin-arm64"],
    ["Darwin", "x86_64", "-", "darwin-x64"],
  ])("%s %s (%s) → %s", async (system, machine, libc, target) => {
    // musl's ldd prints "musl libc (x86_64)" and its version; glibc machines keep the real ldd.
    const ldd = libc === "musl" ? `musl libc (${machine})\nVersion 1.2.5` : undefined;
    const run = await install(
      ["--prefix", join(work, "never")],
      { OLLA_RELEASE_URL: `${server.url.origin}/listing` },
      `${shim(system, machine, ldd)}:${process.env.PATH}`,
    );
    // The listing release has no archives behind its SHA256SUMS: the download is what we look at.
    expect(run.requested).toEqual([
      "/listing/latest/download/SHA256SUMS",
      `/listing/latest/download/${archiveName(target)}`,
    ]);
    expect(run.code).toBe(1);
    expect(existsSync(join(work, "never"))).toBe(false);
  });
});
