// Which profiles are in force: the built-in ones, replaced or extended by YAML files in a profiles
// folder (a new platform needs no code), narrowed by proxy.profile_filter. Bad files are reported by
// name, never skipped silently.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { BUILTIN_PROFILE_FILES } from "./builtin.ts";
import type { PlatformProfile } from "./profile.ts";
import { profileFileSchema, toProfile } from "./profile-file.ts";
import { globToRegExp } from "../glob.ts";

export interface ProfileProblem {
  level: "error" | "warning";
  /** The file the problem is in ("built-in ollama.yaml" or a path). */
  file: string;
  message: string;
}

export interface ProfileFilter {
  include: readonly string[];
  exclude: readonly string[];
}

function parseProfile(text: string, file: string, problems: ProfileProblem[]): PlatformProfile | undefined {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    problems.push({
      level: "error",
      file,
      message: `invalid YAML: ${(error as Error).message.split("\n")[0]}`,
    });
    return undefined;
  }
  const parsed = profileFileSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({
        level: "error",
        file,
        message: `${issue.path.join(".") || "(file)"}: ${issue.message}`,
      });
    }
    return undefined;
  }
  return toProfile(parsed.data);
}

/** The built-in profiles, then each `*.yaml` in `dir` (same name replaces), then the filter. */
export function loadProfiles(options: { dir?: string; filter?: ProfileFilter } = {}) {
  const problems: ProfileProblem[] = [];
  const byName = new Map<string, PlatformProfile>();
  for (const [file, text] of Object.entries(BUILTIN_PROFILE_FILES)) {
    const profile = parseProfile(text, `built-in ${file}`, problems);
    if (profile) byName.set(profile.name, profile);
  }
  if (options.dir && existsSync(options.dir)) {
    for (const file of readdirSync(options.dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()) {
      const path = join(options.dir, file);
      const profile = parseProfile(readFileSync(path, "utf8"), path, problems);
      if (profile) byName.set(profile.name, profile);
    }
  }
  let profiles = [...byName.values()];
  const { include = [], exclude = [] } = options.filter ?? {};
  if (include.length)
    profiles = profiles.filter((profile) =>
      include.some((pattern) => globToRegExp(pattern).test(profile.name)),
    );
  profiles = profiles.filter(
    (profile) => !exclude.some((pattern) => globToRegExp(pattern).test(profile.name)),
  );

  const owners = new Map<string, string>();
  for (const profile of profiles) {
    for (const prefix of profile.prefixes) {
      const owner = owners.get(prefix);
      if (owner && owner !== profile.name) {
        problems.push({
          level: "error",
          file: profile.name,
          message: `route prefix "${prefix}" is also claimed by ${owner}`,
        });
      }
      owners.set(prefix, profile.name);
    }
  }
  return { profiles, problems };
}
