// The one-time relaunch: the environment it sets, the loaded config it hands over, and what the
// serving process therefore never loads.

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig, SHIPPED_CONFIG_YAML } from "../../src/config/index.ts";
import { encodeHandoff, HANDOFF_ENV, type LoadedConfig, takeHandoff } from "../../src/handoff.ts";
import { PROFILES } from "../../src/profiles/index.ts";
import { relaunchEnv } from "../../src/runtime.ts";
import { endpointsYaml } from "../support/olla-app.ts";

const work = mkdtempSync(join(tmpdir(), "olla-relaunch-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the loader hands over for a config file of `count` endpoints (and one unknown key: a warning). */
function loaded(count: number): LoadedConfig {
  const file = join(work, `config-${count}.yaml`);
  const endpoints = Array.from({ length: count }, (_, i) => ({
    name: `gpu-${i}`,
    url: `http://10.0.${i >> 8}.${i & 255}:11434`,
    type: "ollama",
  }));
  writeFileSync(file, `${endpointsYaml(endpoints)}\nproxy:\n  unknown_knob: 1\n`);
  const report = loadConfig({ configPath: file, env: {}, defaultsYaml: SHIPPED_CONFIG_YAML });
  expect(report.asWritten.discovery.static.endpoints).toHaveLength(count);
  return { config: report.asWritten, profiles: PROFILES, problems: report.problems, file: report.file };
}

describe("the hand-off", () => {
  test("reaches the process it was made for intact, and leaves its environment", () => {
    const before = loaded(3);
    const env: Record<string, string | undefined> = { [HANDOFF_ENV]: encodeHandoff(before) };
    expect(takeHandoff(env)).toEqual(JSON.parse(JSON.stringify(before)));
    expect(HANDOFF_ENV in env).toBe(false);
    expect(takeHandoff(env)).toBeUndefined();
  });

  test("made for another process (a copied environment) or unreadable: ignored, and removed", () => {
    const text = encodeHandoff(loaded(1))!;
    const other = JSON.stringify({ ...JSON.parse(text), pid: process.pid + 1 });
    for (const value of [other, "{not json", ""]) {
      const env: Record<string, string | undefined> = { [HANDOFF_ENV]: value };
      expect(takeHandoff(env)).toBeUndefined();
      expect(HANDOFF_ENV in env).toBe(false);
    }
  });

  test("too large for one environment string: none (the serving process loads the config itself)", () => {
    // About 230 bytes an endpoint: the limit falls near 400 endpoints.
    expect(Buffer.byteLength(encodeHandoff(loaded(300))!)).toBeLessThan(96 * 1024);
    expect(encodeHandoff(loaded(500))).toBeUndefined();
  });
});

describe("relaunchEnv", () => {
  const { config } = loaded(1);
  const ready = { BUN_CONFIG_MAX_HTTP_REQUESTS: "1000", BUN_OPTIONS: "--max-http-header-size=8192" };

  test("sets Bun's start-up limits, keeping a user's own", () => {
    expect(relaunchEnv(config, { PATH: "/bin" })).toMatchObject({
      PATH: "/bin",
      BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
      BUN_OPTIONS: `--max-http-header-size=${config.server.request_limits.max_header_size}`,
    });
    expect(relaunchEnv(config, { BUN_OPTIONS: "--smol" })?.BUN_OPTIONS).toBe(
      `--smol --max-http-header-size=${config.server.request_limits.max_header_size}`,
    );
  });

  test("relaunches to hand the config over even when the limits are already set", () => {
    expect(relaunchEnv(config, ready)).toBeUndefined();
    expect(relaunchEnv(config, ready, "{}")).toEqual({ ...ready, [HANDOFF_ENV]: "{}" });
  });
});

test("what olla loads: at start no config loader (YAML, zod) nor Anthropic translation (TypeBox); never the profiles barrel", async () => {
  const outdir = mkdtempSync(join(tmpdir(), "olla-graph-"));
  try {
    // Split at dynamic imports: the entry chunk is exactly what `olla serve` loads when handed a config.
    const build = await Bun.build({
      entrypoints: [resolve(import.meta.dir, "../../src/main.ts")],
      target: "bun",
      splitting: true,
      metafile: true,
      outdir,
    });
    expect(build.success).toBe(true);
    const outputs = build.metafile!.outputs;
    // The entry chunk and every chunk it imports statically (shared modules land in chunks of their own).
    const entry = Object.keys(outputs).find((name) => outputs[name]!.entryPoint?.endsWith("src/main.ts"))!;
    const atStart = new Set([entry]);
    for (const chunk of atStart) {
      for (const { path, kind } of outputs[chunk]!.imports) {
        if (kind === "import-statement" && path in outputs) atStart.add(path);
      }
    }
    const loadedAtStart = [...atStart].flatMap((chunk) => Object.keys(outputs[chunk]!.inputs));
    expect(loadedAtStart).toContain("src/app.ts");
    const all = Object.values(outputs).flatMap((output) => Object.keys(output.inputs));
    const loader =
      /node_modules\/(zod|yaml)\/|src\/config\/(load|schema|index)\.ts|src\/profiles\/(load|index)\.ts/;
    const translation =
      /node_modules\/@sinclair\/typebox\/|src\/translate\/anthropic\/(request|validate|stream)\.ts/;
    for (const lazy of [loader, translation]) {
      expect(loadedAtStart.filter((input) => lazy.test(input))).toEqual([]);
      // ...and they are in the bundle, behind a dynamic import.
      expect(all.filter((input) => lazy.test(input)).length).toBeGreaterThan(0);
    }
    // The barrel that parses the built-in profiles on import is for tests and the bench, never olla.
    expect(all).not.toContain("src/profiles/index.ts");
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
