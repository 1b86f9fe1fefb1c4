import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endpointTypeNames, loadProfiles, PROFILES, profileFor } from "../../../src/profiles/index.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "olla-profiles-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function folder(files: Record<string, string>): string {
  const path = mkdtempSync(join(dir, "set-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
  return path;
}

const KOBOLD = `name: koboldcpp
display_name: KoboldCpp
routing:
  prefixes: [kobold]
api:
  openai_compatible: true
  health_check_path: /api/v1/info/version
  model_discovery_path: /v1/models
# Olla's sections olla does not use are ignored:
detection:
  default_ports: [5001]
`;

describe("built-in profiles", () => {
  test("the shipped platforms load with their prefixes and probe paths", () => {
    expect(PROFILES.map((profile) => profile.name)).toEqual([
      "ollama",
      "lm-studio",
      "openai-compatible",
      "vllm",
      "vllm-mlx",
      "llamacpp",
      "sglang",
      "lmdeploy",
      "litellm",
      "lemonade",
      "omlx",
      "docker-model-runner",
    ]);
    expect(profileFor("lm_studio", PROFILES)).toMatchObject({
      name: "lm-studio",
      healthPath: "/v1/models",
      modelsPath: "/api/v0/models",
    });
    expect(profileFor("ollama", PROFILES).anthropic).toEqual({
      messagesPath: "/v1/messages",
      tokenCount: false,
      limitations: [],
    });
    expect(profileFor("sglang", PROFILES).anthropic).toBeUndefined();
    expect(profileFor("nope", PROFILES).name).toBe("auto");
  });
});

describe("profile folders", () => {
  test("a new file adds a platform without code", () => {
    const { profiles, problems } = loadProfiles({ dir: folder({ "koboldcpp.yaml": KOBOLD }) });
    expect(problems).toEqual([]);
    expect(profileFor("kobold", profiles)).toMatchObject({
      name: "koboldcpp",
      healthPath: "/api/v1/info/version",
    });
    expect(endpointTypeNames(profiles)).toContain("koboldcpp");
  });

  test("a file with a built-in's name replaces it", () => {
    const replaced = `name: ollama\nrouting:\n  prefixes: [ollama]\napi:\n  health_check_path: /api/version\n  model_discovery_path: /api/tags\n`;
    const { profiles } = loadProfiles({ dir: folder({ "my-ollama.yml": replaced }) });
    expect(profileFor("ollama", profiles).healthPath).toBe("/api/version");
    expect(profiles.filter((profile) => profile.name === "ollama")).toHaveLength(1);
  });

  test("a malformed file is reported by name, not skipped silently", () => {
    const dirWithBad = folder({ "broken.yaml": "name: Bad Name\nrouting: {}\n", "garbage.yaml": "a: [1,\n" });
    const { problems } = loadProfiles({ dir: dirWithBad });
    const files = problems.map((problem) => problem.file);
    expect(files).toContain(join(dirWithBad, "broken.yaml"));
    expect(files).toContain(join(dirWithBad, "garbage.yaml"));
    expect(problems.every((problem) => problem.level === "error")).toBe(true);
    expect(problems.find((problem) => problem.file.endsWith("broken.yaml"))!.message).toContain("name");
  });

  test("two platforms claiming one route prefix is an error", () => {
    const clash = KOBOLD.replace("[kobold]", "[vllm]");
    const { problems } = loadProfiles({ dir: folder({ "clash.yaml": clash }) });
    expect(problems).toEqual([
      expect.objectContaining({ level: "error", message: expect.stringContaining('"vllm"') }),
    ]);
  });

  test("proxy.profile_filter narrows the set with globs", () => {
    const only = loadProfiles({ filter: { include: ["ollama", "vllm*"], exclude: ["vllm-mlx"] } }).profiles;
    expect(only.map((profile) => profile.name)).toEqual(["ollama", "vllm"]);
    expect(endpointTypeNames(only)).not.toContain("lmstudio");
  });
});
