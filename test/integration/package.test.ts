// The npm package behind `bunx olla`: `bun pm pack` ships only what running olla needs, and the
// tarball installed into an empty project runs under Bun through its `bin`.

import { afterAll, beforeAll, expect, test } from "bun:test";
import {
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
import packageJson from "../../package.json" with { type: "json" };
import { cleanEnv, runCommand } from "../support/olla-process.ts";

const ROOT = join(import.meta.dir, "../..");

let work: string;
let tarball: string;
/** Paths in the tarball, without npm's leading "package/". */
let packed: Map<string, File>;
/** A PATH whose `bun` is the Bun running these tests (the bin's shebang is `#!/usr/bin/env bun`). */
let path: string;

const run = (cmd: string[], cwd: string, timeoutMs = 120_000) =>
  runCommand(cmd, {
    cwd,
    env: cleanEnv({ PATH: path, NO_COLOR: "1" }),
    timeoutMs,
  });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "olla-package-"));
  const bin = join(work, "bin");
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, "bun"));
  path = `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`;

  const pack = await run([process.execPath, "pm", "pack", "--destination", work, "--quiet"], ROOT, 60_000);
  if (pack.code !== 0) throw new Error(`bun pm pack failed:\n${pack.stdout}${pack.stderr}`);
  tarball = join(work, `${packageJson.name}-${packageJson.version}.tgz`);
  const files = await new Bun.Archive(readFileSync(tarball)).files();
  packed = new Map([...files].map(([name, file]) => [name.replace(/^package\//, ""), file]));
}, 90_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

test("the tarball holds the sources, the shipped config and profiles, and the docs", () => {
  const names = [...packed.keys()];
  for (const name of [
    "package.json",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "src/main.ts",
    "config/config.yaml",
  ])
    expect(names).toContain(name);
  const profiles = readdirSync(join(ROOT, "config/profiles")).filter((name) => name.endsWith(".yaml"));
  for (const profile of profiles) expect(names).toContain(`config/profiles/${profile}`);
});

test("and nothing else: no tests, benchmarks, CI, build or container files, no local config", () => {
  const unwanted =
    /^(test|bench|docs|\.ci|\.github|dist|node_modules)\/|\.test\.ts$|^build|^install\.sh$|^Dockerfile$|^docker-compose|^tsconfig|^bunfig|config\.local\.yaml$/;
  expect([...packed.keys()].filter((name) => unwanted.test(name))).toEqual([]);
  // Everything under src/ except tests (the dashboard's static files included, once they exist).
  const sources = [...new Bun.Glob("src/**/*").scanSync(ROOT)].filter((name) => !name.endsWith(".test.ts"));
  expect([...packed.keys()].filter((name) => name.startsWith("src/")).sort()).toEqual(sources.sort());
});

test("package.json: the bin is the TypeScript entry with a bun shebang; Bun's version is pinned", async () => {
  const manifest = JSON.parse(await packed.get("package.json")!.text());
  expect(manifest.bin).toEqual({ olla: "./src/main.ts" });
  expect(manifest.engines.bun).toBeDefined();
  expect((await packed.get("src/main.ts")!.text()).split("\n")[0]).toBe("#!/usr/bin/env bun");
});

test("installed from the tarball into an empty project, `olla` and `bunx olla` run", async () => {
  const project = join(work, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "try-olla", private: true }));
  // Its dependencies (yaml, zod, typebox) come from the registry or Bun's cache.
  const add = await run([process.execPath, "add", tarball], project);
  expect(add.code, `bun add failed:\n${add.stdout}${add.stderr}`).toBe(0);

  const bin = join(project, "node_modules/.bin/olla");
  const direct = await run([bin, "--version"], project, 30_000);
  expect(direct.stderr).toBe("");
  expect(direct.stdout).toStartWith(`olla ${packageJson.version} (commit dev, built unknown) bun `);
  expect(direct.code).toBe(0);

  // bunx prefers the locally installed package, so this does not ask the registry for "olla".
  const bunx = await run([process.execPath, "x", "olla", "--version"], project, 30_000);
  expect(bunx.stdout).toStartWith(`olla ${packageJson.version} `);
  expect(bunx.code).toBe(0);

  // The embedded defaults and profiles resolve from node_modules: a clean config validates.
  const validate = await run([bin, "validate"], project, 30_000);
  expect(validate.stdout).toBe("built-in defaults: OK\n");
  expect(validate.code).toBe(0);
}, 150_000);
