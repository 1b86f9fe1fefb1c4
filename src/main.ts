#!/usr/bin/env bun
// Entry point: argv → command, exit codes and signals. The only place that calls process.exit.

import { dirname, join, resolve } from "node:path";
import { startApp } from "./app.ts";
import { parseCommand, USAGE, UsageError } from "./cli.ts";
import {
  type Config,
  ConfigError,
  type ConfigProblem,
  formatProblem,
  inspectConfig,
  type KnownTypes,
  type LoadOptions,
  loadConfig,
  renderConfig,
  SHIPPED_CONFIG_YAML,
} from "./config/index.ts";
import { ListenError } from "./http/index.ts";
import { createLogger, type Logger, openSink } from "./log/index.ts";
import { endpointTypeNames, loadProfiles, type PlatformProfile } from "./profiles/index.ts";
import { relaunchEnv } from "./runtime.ts";
import { BUILD, versionLine } from "./version.ts";

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_CONFIG = 2;

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

function printProblems(problems: ConfigProblem[]): void {
  for (const problem of problems) process.stderr.write(`${formatProblem(problem)}\n`);
}

function validate(configPath: string | undefined): number {
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

async function health(configPath: string | undefined, url: string | undefined): Promise<number> {
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

function createRootLogger(config: Config): { logger: Logger; close: () => Promise<void> } {
  const sink = openSink(config.logging.output, config.logging.file);
  const logger = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    write: sink.lines,
    color: config.logging.format === "pretty" && sink.isTerminal && !process.env.NO_COLOR,
  });
  return { logger, close: sink.close };
}

async function serve(configPath: string | undefined): Promise<number | "running"> {
  const report = loadConfig(loadOptions(configPath));
  const { config } = report;

  // Bun reads some limits only from its environment at start-up: relaunch once with them set.
  const env = relaunchEnv(config, process.env);
  if (env && typeof process.execve === "function" && process.platform !== "win32") {
    const standalone = process.argv[1]?.startsWith("/$bunfs/") ?? false;
    const args = standalone ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
    process.execve(process.execPath, [process.execPath, ...args], env);
  }

  const { logger, close } = createRootLogger(config);
  for (const problem of report.problems) logger.warn(formatProblem(problem));
  const app = await startApp(config, logger, loadedProfiles);

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn("second signal: exiting now", { signal });
      process.exit(EXIT_FAILED);
    }
    stopping = true;
    logger.info("shutting down", {
      signal,
      in_flight: app.server.pending(),
      grace_ms: config.server.shutdown_timeout,
    });
    const { drained } = await app.stop();
    if (config.engineering.show_nerdstats) {
      const memory = process.memoryUsage();
      logger.info("nerdstats", {
        uptime_s: Math.round(process.uptime()),
        rss_bytes: memory.rss,
        heap_used_bytes: memory.heapUsed,
        heap_total_bytes: memory.heapTotal,
        external_bytes: memory.external,
      });
    }
    logger.info("olla stopped", { drained });
    await close();
    process.exit(EXIT_OK);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);

  logger.info("olla started", {
    version: BUILD.version,
    commit: BUILD.commit,
    listen: app.server.url.toString(),
    config: report.file ?? "built-in defaults",
    endpoints: config.discovery.static.endpoints.length,
    engine: config.proxy.engine,
    load_balancer: config.proxy.load_balancer,
    fetch_max_requests: Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS ?? 256),
  });

  return "running";
}

async function run(argv: readonly string[]): Promise<number | "running"> {
  if (/^(1|true|yes)$/i.test(process.env.OLLA_SHOW_VERSION ?? "")) {
    process.stdout.write(`${versionLine()}\n`);
    return EXIT_OK;
  }
  const command = parseCommand(argv);
  switch (command.name) {
    case "help":
      process.stdout.write(USAGE);
      return EXIT_OK;
    case "version":
      process.stdout.write(`${versionLine()}\n`);
      return EXIT_OK;
    case "validate":
      return validate(command.configPath);
    case "config":
      process.stdout.write(renderConfig(loadConfig(loadOptions(command.configPath)).config));
      return EXIT_OK;
    case "health":
      return health(command.configPath, command.url);
    case "serve":
      return serve(command.configPath);
  }
}

try {
  const outcome = await run(process.argv.slice(2));
  if (outcome !== "running") process.exit(outcome);
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`olla: ${error.message}\n\n${USAGE}`);
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof ConfigError) {
    printProblems(error.problems);
    process.stderr.write("olla: configuration has errors; not starting (run `olla validate` for details)\n");
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof ListenError) {
    process.stderr.write(`olla: ${error.message}\n`);
    process.exit(EXIT_FAILED);
  }
  process.stderr.write(`olla: ${(error as Error).stack ?? error}\n`);
  process.exit(EXIT_FAILED);
}
