// Builds the effective configuration: schema defaults < shipped config.yaml < the user's YAML file
// < OLLA_* environment variables, then validates it and reports every problem with its origin.

import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseDocument } from "yaml";
import { checkConfig } from "./checks.ts";
import { readEnvLayer } from "./env.ts";
import { isPlainObject, mergeLayer, originOf, unknownKeys } from "./merge.ts";
import { ConfigError, type ConfigProblem } from "./problems.ts";
import { type Config, configSchema, NOT_YET_ACTIVE, notYetActiveSection } from "./schema.ts";
import { referencedVariables, resolveSecrets } from "./secrets.ts";

/** Looked for in the working directory, in this order, when no file is named. */
export const CONFIG_SEARCH_PATHS = ["config/config.local.yaml", "config/config.yaml", "config.yaml"];

export interface LoadOptions {
  /** From --config/-c; a named file that is missing is an error. */
  configPath?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** The shipped config.yaml text (embedded in the binary); omitted means schema defaults only. */
  defaultsYaml?: string;
  /** Endpoint types the profiles know; unknown types are errors. A function gets the merged config
   * (profiles may depend on it) and may report problems of its own (e.g. a broken profile file). */
  knownTypes?: readonly string[] | ((config: Config, file: string | undefined) => KnownTypes);
}

export interface KnownTypes {
  names: readonly string[];
  problems: ConfigProblem[];
}

export interface ConfigReport {
  /** Present when there are no errors. */
  config?: Config;
  /** The same config before its secrets were resolved (`${VAR}` and `*_file` as written): what a
   * relaunched process is handed, so no secret value travels in its environment. */
  asWritten?: Config;
  /** The user's file that was read, as given or found; undefined when none was. */
  file?: string;
  /** Every error and warning found, in the order found. */
  problems: ConfigProblem[];
  /** Key path → the source that set it ("defaults", a file path, "env OLLA_X"). */
  origins: Map<string, string>;
}

function parseYamlLayer(text: string, source: string, problems: ConfigProblem[]): Record<string, unknown> {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  for (const error of document.errors) {
    const at = error.linePos?.[0];
    problems.push({
      level: "error",
      path: "",
      source: at ? `${source}:${at.line}:${at.col}` : source,
      message: `invalid YAML: ${error.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`,
    });
  }
  if (document.errors.length) return {};
  let value: unknown;
  try {
    // Throws on alias bombs (too many expansions) and the like: still a problem with the file.
    value = document.toJS() ?? {};
  } catch (error) {
    problems.push({ level: "error", path: "", source, message: `invalid YAML: ${(error as Error).message}` });
    return {};
  }
  if (!isPlainObject(value)) {
    problems.push({
      level: "error",
      path: "",
      source,
      message: "expected a YAML map of sections at the top level",
    });
    return {};
  }
  return value;
}

/** Which file to read: the named one, OLLA_CONFIG_FILE, or the first of the search paths that exists. */
export function findConfigFile(options: Pick<LoadOptions, "configPath" | "env" | "cwd">): {
  file?: string;
  named: boolean;
  via?: string;
} {
  const cwd = options.cwd ?? process.cwd();
  if (options.configPath) return { file: options.configPath, named: true, via: "--config" };
  const fromEnv = options.env?.OLLA_CONFIG_FILE;
  if (fromEnv) return { file: fromEnv, named: true, via: "OLLA_CONFIG_FILE" };
  const found = CONFIG_SEARCH_PATHS.find((candidate) => existsSync(resolve(cwd, candidate)));
  return { file: found, named: false };
}

function pathOf(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, index) =>
      typeof segment === "number" ? `[${segment}]` : `${index ? "." : ""}${String(segment)}`,
    )
    .join("");
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let node = root;
  for (const segment of segments) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

/** One warning per not-yet-active section the user set (through a file or env), naming where. */
function notYetActive(origins: Map<string, string>): ConfigProblem[] {
  const warned = new Map<string, ConfigProblem>();
  for (const [path, source] of origins) {
    if (source === "defaults") continue;
    const prefix = notYetActiveSection(path);
    if (prefix && !warned.has(prefix)) {
      warned.set(prefix, {
        level: "warning",
        path,
        source,
        message: `accepted, but ${NOT_YET_ACTIVE[prefix]}`,
      });
    }
  }
  return [...warned.values()];
}

/** Reads and checks the configuration without throwing: `olla validate` prints this report. */
export function inspectConfig(options: LoadOptions = {}): ConfigReport {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: ConfigProblem[] = [];
  const origins = new Map<string, string>();
  const raw: Record<string, unknown> = {};

  if (options.defaultsYaml !== undefined) {
    mergeLayer(
      raw,
      parseYamlLayer(options.defaultsYaml, "built-in config.yaml", problems),
      "defaults",
      origins,
    );
  }

  const referenced = new Set<string>();
  const { file, named, via } = findConfigFile({ ...options, env, cwd });
  if (file) {
    const full = isAbsolute(file) ? file : resolve(cwd, file);
    let text: string | undefined;
    try {
      text = readFileSync(full, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === "ENOENT" ? "file not found" : `cannot read it (${code ?? String(error)})`;
      problems.push({
        level: "error",
        path: "",
        source: named ? `${file} (named by ${via})` : file,
        message: reason,
      });
    }
    if (text !== undefined) {
      for (const name of referencedVariables(text)) referenced.add(name);
      const layer = parseYamlLayer(text, file, problems);
      problems.push(...unknownKeys(layer, file));
      mergeLayer(raw, layer, file, origins);
    }
  }

  const envLayer = readEnvLayer(env, referenced);
  const envOrigin = (path: string) => originOf(path, envLayer.origins) ?? "environment";
  problems.push(...envLayer.problems);
  for (const problem of unknownKeys(envLayer.values, "environment")) {
    problems.push({ ...problem, source: envOrigin(problem.path) });
  }
  mergeLayer(raw, envLayer.values, envOrigin, origins);

  const origin = (path: string) => originOf(path, origins) ?? "defaults";
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = pathOf(issue.path);
      const value = valueAt(raw, issue.path);
      problems.push({
        level: "error",
        path,
        source: origin(path),
        message: issue.message,
        ...(value === undefined ? {} : { value }),
      });
    }
    return { file, problems, origins };
  }

  const config = parsed.data;
  problems.push(...notYetActive(origins));
  let knownTypes: readonly string[] | undefined;
  if (typeof options.knownTypes === "function") {
    const resolved = options.knownTypes(config, file);
    problems.push(...resolved.problems);
    knownTypes = resolved.names;
  } else {
    knownTypes = options.knownTypes;
  }
  problems.push(...checkConfig(config, { knownTypes, origin }));
  const asWritten = structuredClone(config);
  problems.push(...resolveSecrets(config, env, origin));
  const failed = problems.some((problem) => problem.level === "error");
  return failed ? { file, problems, origins } : { config, asWritten, file, problems, origins };
}

/** The configuration to run with; throws ConfigError (every problem listed) when it has errors. */
export function loadConfig(options: LoadOptions = {}): ConfigReport & { config: Config; asWritten: Config } {
  const report = inspectConfig(options);
  if (!report.config) throw new ConfigError(report.problems);
  return report as ConfigReport & { config: Config; asWritten: Config };
}
