// What the loading process hands to the serving one across main.ts's relaunch. Loading the config
// takes the YAML and zod modules, the schema objects and their garbage: 15 to 19 MiB that the serving
// process would hold for its whole life. It is handed the result instead and never imports them.

import type { ConfigProblem } from "./config/problems.ts";
import type { Config } from "./config/schema.ts";
import type { PlatformProfile } from "./profiles/profile.ts";

/** Internal: set by olla only for the process it relaunches into. */
export const HANDOFF_ENV = "OLLA_LOADED_CONFIG";

/** Linux caps one environment string at 128 KiB; a larger config is loaded again after the relaunch. */
const MAX_HANDOFF_BYTES = 96 * 1024;

export interface LoadedConfig {
  /** Validated, with secrets as written (`${VAR}`, `*_file`): the serving process resolves them. */
  config: Config;
  /** The profiles in force (built in, the profiles folder, proxy.profile_filter). */
  profiles: readonly PlatformProfile[];
  /** Warnings found while loading, logged once the logger is up. */
  problems: ConfigProblem[];
  /** The config file read; undefined for the built-in defaults. */
  file?: string;
}

/** The hand-off as an environment value, or undefined when it is too large for one. */
export function encodeHandoff(loaded: LoadedConfig): string | undefined {
  const text = JSON.stringify({ pid: process.pid, ...loaded });
  return Buffer.byteLength(text) <= MAX_HANDOFF_BYTES ? text : undefined;
}

/** The config handed to this process, removed from `env` so nothing started later inherits it. */
export function takeHandoff(env: Record<string, string | undefined>): LoadedConfig | undefined {
  const text = env[HANDOFF_ENV];
  if (text === undefined) return undefined;
  delete env[HANDOFF_ENV];
  try {
    const { pid, config, profiles, problems, file } = JSON.parse(text);
    // execve keeps the pid, so a value copied into another process's environment is ignored.
    return pid === process.pid ? { config, profiles, problems, file } : undefined;
  } catch {
    return undefined;
  }
}
