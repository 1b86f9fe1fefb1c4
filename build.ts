// `npm run build`: standalone olla binaries (bun build --compile) into dist/, one per target,
// stamped with version, commit and date. `bun build.ts --host` builds only this machine's target.

import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
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

export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `${os}-${process.arch}`;
}

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], {
    cwd: import.meta.dir,
    stderr: "ignore",
  });
  return result.success ? result.stdout.toString().trim() : "unknown";
}

export interface Stamp {
  commit: string;
  date: string;
}

/** Compiles one target into outDir; returns the binary's path. */
export async function buildTarget(target: string, outDir: string, stamp: Stamp): Promise<string> {
  const outfile = `${outDir}/olla-${target}${target.startsWith("windows") ? ".exe" : ""}`;
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
  const proc = Bun.spawn([process.execPath, ...args], {
    cwd: import.meta.dir,
    stdout: "ignore",
    stderr: "inherit",
  });
  if ((await proc.exited) !== 0) throw new Error(`build failed for ${target}`);
  return outfile;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      host: { type: "boolean" },
      target: { type: "string", multiple: true },
      out: { type: "string" },
    },
  });
  const outDir = values.out ?? "dist";
  mkdirSync(outDir, { recursive: true });
  const targets = values.host ? [hostTarget()] : (values.target ?? [...TARGETS]);
  const stamp = { commit: gitCommit(), date: new Date().toISOString() };
  console.log(`olla ${packageJson.version} (${stamp.commit}): building ${targets.join(", ")}`);
  for (const target of targets) console.log(`  ${await buildTarget(target, outDir, stamp)}`);
}
