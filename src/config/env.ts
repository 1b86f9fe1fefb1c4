// The OLLA_* environment layer: names derive from key paths (server.port → OLLA_SERVER_PORT),
// plus the short aliases Olla (Go) documented, so existing deployments keep working.

import { parse as parseYaml } from "yaml";
import type { LeafKind } from "./fields.ts";
import type { ConfigProblem } from "./problems.ts";
import { RETIRED_KEYS } from "./schema.ts";
import { closest } from "./suggest.ts";
import { type Leaf, listLeaves } from "./walk.ts";

export const ENV_PREFIX = "OLLA_";

/** Short names kept from Olla (Go); each maps onto one key. */
export const ENV_ALIASES: Record<string, string> = {
  OLLA_SERVER_MAX_BODY_SIZE: "server.request_limits.max_body_size",
  OLLA_SERVER_MAX_HEADER_SIZE: "server.request_limits.max_header_size",
  OLLA_SERVER_GLOBAL_RATE_LIMIT: "server.rate_limits.global_requests_per_minute",
  OLLA_SERVER_PER_IP_RATE_LIMIT: "server.rate_limits.per_ip_requests_per_minute",
  OLLA_SERVER_RATE_BURST_SIZE: "server.rate_limits.burst_size",
  OLLA_SERVER_HEALTH_RATE_LIMIT: "server.rate_limits.health_requests_per_minute",
  OLLA_SERVER_RATE_CLEANUP_INTERVAL: "server.rate_limits.cleanup_interval",
  OLLA_SERVER_TRUST_PROXY_HEADERS: "server.rate_limits.trust_proxy_headers",
  OLLA_SERVER_TRUSTED_PROXY_CIDRS: "server.rate_limits.trusted_proxy_cidrs",
  OLLA_SHOW_NERD_STATS: "engineering.show_nerdstats",
  OLLA_MODEL_UNIFIER_ENABLED: "model_registry.enable_unifier",
  OLLA_LOG_LEVEL: "logging.level",
  OLLA_ENDPOINTS: "discovery.static.endpoints",
};

/** Olla (Go) switches whose value is translated rather than copied. */
const ENV_SWITCHES: Record<string, { path: string; value: (raw: string) => unknown }> = {
  OLLA_PRETTY_LOGS: { path: "logging.format", value: (raw) => (isTrue(raw) ? "pretty" : "json") },
  OLLA_FILE_OUTPUT: { path: "logging.output", value: (raw) => (isTrue(raw) ? "file" : "stdout") },
  OLLA_LOG_DIR: { path: "logging.file", value: (raw) => `${raw.replace(/[\\/]+$/, "")}/olla.log` },
};

/** Read before the config exists (by the CLI), so not config keys. */
export const BOOTSTRAP_ENV = new Set(["OLLA_CONFIG_FILE", "OLLA_SHOW_VERSION"]);

/** Olla (Go) variables with no counterpart here, and what to do instead. */
const UNSUPPORTED_ENV: Record<string, string> = {
  OLLA_ENABLE_PROFILER: "not supported; profile with BUN_OPTIONS=--cpu-prof instead",
  OLLA_LOG_SIZE_MB: "log rotation is not built in; use logrotate with copytruncate",
  OLLA_LOG_MAX_BACKUPS: "log rotation is not built in; use logrotate with copytruncate",
  OLLA_LOG_MAX_AGE_DAYS: "log rotation is not built in; use logrotate with copytruncate",
  OLLA_THEME: "not supported; the pretty log format has one colour scheme",
  OLLA_CONFIG_DIR: "not supported; models.yaml is not used, put everything in the config file",
  // Olla's variables for keys olla accepts and ignores: the same reason as for the key.
  OLLA_PROXY_PROFILE: `ignored: ${RETIRED_KEYS["proxy.profile"]}`,
};

function isTrue(raw: string): boolean {
  return ["true", "1", "yes", "on"].includes(raw.trim().toLowerCase());
}

/** The env name derived from a key path: "server.request_limits.max_body_size" → OLLA_SERVER_REQUEST_LIMITS_MAX_BODY_SIZE. */
export function envNameFor(path: string): string {
  return ENV_PREFIX + path.replaceAll(".", "_").toUpperCase();
}

/** Turns an env string into what the schema expects for that kind of key. */
function envValue(kind: LeafKind, raw: string): unknown {
  switch (kind) {
    case "number":
      return /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    case "list": {
      const trimmed = raw.trim();
      if (trimmed.startsWith("[")) return parseYaml(trimmed);
      return trimmed
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean);
    }
    case "map":
    case "endpoints":
      return parseYaml(raw);
    default:
      return raw;
  }
}

export interface EnvLayer {
  /** Nested object of the values set through env vars. */
  values: Record<string, unknown>;
  /** Key path → the env var that set it. */
  origins: Map<string, string>;
  problems: ConfigProblem[];
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Every env name that maps to a key, with the leaf it sets. */
export function envNames(leaves: Leaf[] = listLeaves()): Map<string, Leaf> {
  const byPath = new Map(leaves.map((leaf) => [leaf.path, leaf]));
  const names = new Map<string, Leaf>();
  for (const leaf of leaves) names.set(envNameFor(leaf.path), leaf);
  for (const [alias, path] of Object.entries(ENV_ALIASES)) {
    const leaf = byPath.get(path);
    if (leaf) names.set(alias, leaf);
  }
  return names;
}

/** Reads OLLA_* variables into a config layer. Aliases apply first, so a full name wins over its alias.
 * `referenced`: names the config files expand (see secrets.ts referencedVariables), not warned about. */
export function readEnvLayer(
  env: Record<string, string | undefined>,
  referenced: ReadonlySet<string> = new Set(),
): EnvLayer {
  const names = envNames();
  const layer: EnvLayer = { values: {}, origins: new Map(), problems: [] };
  const isShort = (name: string) => name in ENV_ALIASES || name in ENV_SWITCHES;
  const present = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && env[name] !== undefined)
    .sort((a, b) => Number(isShort(b)) - Number(isShort(a)));
  for (const name of present) {
    const raw = env[name] as string;
    const source = `env ${name}`;
    const switched = ENV_SWITCHES[name];
    const leaf = names.get(name);
    if (switched) {
      setPath(layer.values, switched.path, switched.value(raw));
      layer.origins.set(switched.path, source);
    } else if (leaf) {
      try {
        setPath(layer.values, leaf.path, envValue(leaf.kind, raw));
        layer.origins.set(leaf.path, source);
      } catch (error) {
        layer.problems.push({
          level: "error",
          path: leaf.path,
          value: raw,
          source,
          message: `could not parse as YAML/JSON: ${(error as Error).message.split("\n")[0]}`,
        });
      }
    } else if (UNSUPPORTED_ENV[name]) {
      layer.problems.push({ level: "warning", path: "", source, message: UNSUPPORTED_ENV[name] });
    } else if (!BOOTSTRAP_ENV.has(name) && !referenced.has(name)) {
      const guess = closest(name, [...names.keys(), ...Object.keys(ENV_SWITCHES), ...BOOTSTRAP_ENV]);
      layer.problems.push({
        level: "warning",
        path: "",
        source,
        message: `unknown environment variable, ignored${guess ? ` (did you mean ${guess}?)` : ""}`,
      });
    }
  }
  return layer;
}
