// `npm run build`: standalone olla binaries (bun build --compile) into dist/, one per target, stamped
// with version, commit and date; then one release archive per target and dist/SHA256SUMS.
// `bun build.ts --host` builds only this machine's target; `--binaries-only` skips the archives.

import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ArchiveEntry, type GzipLevel, tarGz, zip } from "./build/archive.ts";
import packageJson from "./package.json" with { type: "json" };

export const TARGETS = [
  "linux-x64",
  "linux-arm64",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "windows-x64",
] as const;

export const VERSION: string = packageJson.version;

const ROOT = import.meta.dir;

export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}`;
}

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], {
    cwd: ROOT,
    stderr: "ignore",
  });
  return result.success ? result.stdout.toString().trim() : "unknown";
}

const isWindows = (target: string) => target.startsWith("windows");

export interface Stamp {
  commit: string;
  date: string;
}

/** Compiles one target into outDir; returns the binary's path. Throws with bun's output on failure. */
export async function buildTarget(
  target: string,
  outDir: string,
  stamp: Stamp,
  options: { timeoutMs?: number } = {},
): Promise<string> {
  const outfile = `${outDir}/olla-${target}${isWindows(target) ? ".exe" : ""}`;
  const args = [
    "build",
    "src/main.ts",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    // A binary must not pick up a stray .env or bunfig.toml from wherever it is started.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--target=bun-${target}`,
    `--define=OLLA_BUILD_COMMIT=${JSON.stringify(stamp.commit)}`,
    `--define=OLLA_BUILD_DATE=${JSON.stringify(stamp.date)}`,
    `--outfile=${outfile}`,
  ];
  // Cross-compiling downloads that platform's Bun runtime once (from the npm registry): bound it.
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 300_000,
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`build failed for ${target} (exit ${code}):\n${stderr.trim()}`);
  if (stderr.trim()) process.stderr.write(stderr);
  return outfile;
}

/** `olla-<version>-<os>-<arch>.tar.gz`, or `.zip` for Windows. */
export function archiveName(target: string): string {
  return `olla-${VERSION}-${target}.${isWindows(target) ? "zip" : "tar.gz"}`;
}

/** What a release archive holds, under one top folder: the binary, the shipped config, the docs. */
export function archiveEntries(target: string, binary: string): ArchiveEntry[] {
  const top = `olla-${VERSION}-${target}/`;
  const file = (path: string, source: string, mode = 0o644): ArchiveEntry => ({
    path: top + path,
    data: readFileSync(source),
    mode,
  });
  const dir = (path: string): ArchiveEntry => ({ path: top + path, data: new Uint8Array(0), mode: 0o755 });
  const profiles = readdirSync(join(ROOT, "config/profiles"))
    .filter((name) => name.endsWith(".yaml"))
    .sort();
  return [
    dir(""),
    file(isWindows(target) ? "olla.exe" : "olla", binary, 0o755),
    dir("config/"),
    file("config/config.yaml", join(ROOT, "config/config.yaml")),
    dir("config/profiles/"),
    ...profiles.map((name) => file(`config/profiles/${name}`, join(ROOT, "config/profiles", name))),
    file("LICENSE", join(ROOT, "LICENSE")),
    file("README.md", join(ROOT, "README.md")),
  ];
}

/** Writes the target's release archive into outDir; returns its path. */
export function archiveTarget(
  target: string,
  binary: string,
  outDir: string,
  options: { date?: Date; level?: GzipLevel } = {},
): string {
  const date = options.date ?? new Date();
  const entries = archiveEntries(target, binary);
  const path = join(outDir, archiveName(target));
  writeFileSync(path, isWindows(target) ? zip(entries, date) : tarGz(entries, date, options.level));
  return path;
}

export function sha256(path: string): string {
  return new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
}

/** Writes outDir/SHA256SUMS (`sha256sum` format) over every archive of this version in outDir. */
export function writeChecksums(outDir: string): string {
  const prefix = `olla-${VERSION}-`;
  const archives = readdirSync(outDir)
    .filter((name) => name.startsWith(prefix) && (name.endsWith(".tar.gz") || name.endsWith(".zip")))
    .sort();
  const path = join(outDir, "SHA256SUMS");
  writeFileSync(path, archives.map((name) => `${sha256(join(outDir, name))}  ${name}\n`).join(""));
  return path;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      host: { type: "boolean" },
      target: { type: "string", multiple: true },
      out: { type: "string" },
      "binaries-only": { type: "boolean" },
      // Where there is no .git (a container build), the caller passes the commit and date.
      commit: { type: "string" },
      date: { type: "string" },
    },
  });
  const outDir = values.out ?? join(ROOT, "dist");
  mkdirSync(outDir, { recursive: true });
  const targets = values.host ? [hostTarget()] : (values.target ?? [...TARGETS]);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const date =
    values.date || (epoch ? new Date(Number(epoch) * 1000).toISOString() : new Date().toISOString());
  const stamp = { commit: values.commit || gitCommit(), date };
  console.log(`olla ${VERSION} (${stamp.commit}, ${stamp.date}): building ${targets.join(", ")}`);
  for (const target of targets) {
    const binary = await buildTarget(target, outDir, stamp);
    console.log(`  ${binary}`);
    if (values["binaries-only"]) continue;
    const archive = archiveTarget(target, binary, outDir, { date: new Date(stamp.date) });
    console.log(`  ${archive}`);
  }
  if (!values["binaries-only"]) console.log(`  ${writeChecksums(outDir)}`);
}
