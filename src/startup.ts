// The commands that read the configuration with the full loader (YAML, zod, profile files):
// validate, config, health, and loading for serve. main.ts imports this module only when it needs
// it; a relaunched serving process is handed the loaded config instead (handoff.ts).

import { dirname, join, resolve } from "node:path";
import {
  type Config,
  inspectConfig,
  type KnownTypes,
  type LoadOptions,
  loadConfig,
  renderConfig,
  SHIPPED_CONFIG_YAML,
} from "./config/index.ts";
import { printProblems } from "./config/problems.ts";
import { EXIT_CONFIG, EXIT_FAILED, EXIT_OK } from "./cli.ts";
import type { LoadedConfig } from "./handoff.ts";
import { loadProfiles } from "./profiles/load.ts";
import { endpointTypeNames, type PlatformProfile } from "./profiles/profile.ts";

/** The profiles in force for the last config loaded (built in, plus <config dir>/profiles/*.yaml). */
let loadedProfiles: readonly PlatformProfile[] = [];

/** Profile files sit beside the config file (config/profiles for config/config.yaml), as in Olla. */
function profilesFor(config: Config, file: string | undefined): KnownTypes {
  const dir = file ? join(dirname(resolve(file)), "profiles") : resolve("config/profiles");
  const { profiles, problems } = loadProfiles({ dir, filter: config.proxy.profile_filter });
  loadedProfiles = profiles;
  return {
    names: endpointTypeNames(profiles),
    problems: problems.map((problem) => ({
      level: problem.level,
      path: "",
      source: `profile ${problem.file}`,
      message: problem.message,
    })),
  };
}

function loadOptions(configPath: string | undefined): LoadOptions {
  return { configPath, defaultsYaml: SHIPPED_CONFIG_YAML, knownTypes: profilesFor };
}

/** What `serve` runs with; throws ConfigError when the config has errors. */
export function loadForServe(configPath: string | undefined): LoadedConfig {
  const report = loadConfig(loadOptions(configPath));
  return { config: report.asWritten, profiles: loadedProfiles, problems: report.problems, file: report.file };
}

/** `olla validate`: every problem with its origin; exit 2 on errors, 1 on warnings only. */
export function validate(configPath: string | undefined): number {
  const report = inspectConfig(loadOptions(configPath));
  printProblems(report.problems);
  const errors = report.problems.filter((problem) => problem.level === "error").length;
  const warnings = report.problems.length - errors;
  const file = report.file ?? "built-in defaults";
  if (errors) {
    process.stderr.write(`${file}: ${errors} error(s), ${warnings} warning(s)\n`);
    return EXIT_CONFIG;
  }
  if (warnings) {
    process.stderr.write(`${file}: ${warnings} warning(s)\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(`${file}: OK\n`);
  return EXIT_OK;
}

/** `olla health`: asks a running olla (the configured address, or --url) for /internal/health. */
export async function health(configPath: string | undefined, url: string | undefined): Promise<number> {
  let base = url;
  if (!base) {
    const { config } = loadConfig(loadOptions(configPath));
    const host = ["0.0.0.0", "::", ""].includes(config.server.host) ? "127.0.0.1" : config.server.host;
    base = `http://${host.includes(":") ? `[${host}]` : host}:${config.server.port}`;
  }
  try {
    const response = await fetch(new URL("/internal/health", base), { signal: AbortSignal.timeout(5000) });
    process.stdout.write(`${response.status} ${await response.text()}\n`);
    return response.ok ? EXIT_OK : EXIT_FAILED;
  } catch (error) {
    process.stderr.write(`olla at ${base} did not answer: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
}

/** `olla config`: the effective configuration as YAML, secrets masked. */
export function showConfig(configPath: string | undefined): number {
  process.stdout.write(renderConfig(loadConfig(loadOptions(configPath)).config));
  return EXIT_OK;
}
