// Command-line parsing: which command to run and with which options. No side effects here.

import { parseArgs } from "node:util";

export type Command =
  | { name: "serve"; configPath?: string }
  | { name: "validate"; configPath?: string }
  | { name: "config"; configPath?: string }
  | { name: "health"; configPath?: string; url?: string }
  | { name: "version" }
  | { name: "help" };

export const USAGE = `olla: load balancer and reverse proxy for LLM inference servers

Usage:
  olla [serve] [-c FILE]     start the proxy (the default command)
  olla validate [-c FILE]    check the configuration; exit 0 only when it is clean
  olla config [-c FILE]      print the effective configuration (secrets masked)
  olla health [-c FILE] [--url URL]
                             ask a running olla for /internal/health (exit 0 when healthy)
  olla --version             print version, build, runtime and platform
  olla --help                print this help

Options:
  -c, --config FILE          configuration file (else $OLLA_CONFIG_FILE, else
                             config/config.local.yaml, config/config.yaml, config.yaml)
      --url URL              olla's base URL for \`olla health\` (default: from the config)

Environment:
  OLLA_CONFIG_FILE           configuration file when -c is not given
  OLLA_<SECTION>_<KEY>       any key, e.g. OLLA_SERVER_PORT=8080, OLLA_PROXY_LOAD_BALANCER=round_robin
`;

export class UsageError extends Error {}

/** Exit codes: 0 done, 1 failed (or warnings from validate), 2 bad usage or configuration. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_CONFIG = 2;

const COMMANDS = new Set(["serve", "validate", "config", "health", "version", "help"]);

const OPTIONS = {
  config: { type: "string", short: "c" },
  url: { type: "string" },
  version: { type: "boolean", short: "v" },
  help: { type: "boolean", short: "h" },
} as const;

function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

export function parseCommand(argv: readonly string[]): Command {
  const parsed = parseFlags(argv);
  const { values, positionals } = parsed;
  if (values.help) return { name: "help" };
  if (values.version) return { name: "version" };
  const [name = "serve", ...extra] = positionals;
  if (!COMMANDS.has(name)) throw new UsageError(`unknown command "${name}"`);
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (values.url !== undefined && name !== "health")
    throw new UsageError("--url only goes with `olla health`");
  const configPath = values.config;
  switch (name) {
    case "version":
    case "help":
      return { name };
    case "health":
      return { name, configPath, url: values.url };
    default:
      return { name: name as "serve" | "validate" | "config", configPath };
  }
}
