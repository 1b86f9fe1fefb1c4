#!/usr/bin/env bun
// Entry point: argv → command, exit codes and signals. The only place that calls process.exit.
// The config loader (YAML, zod) sits behind a dynamic import: a relaunched serving process is
// handed the loaded config and never loads it (handoff.ts).

import { startApp } from "./app.ts";
import { EXIT_CONFIG, EXIT_FAILED, EXIT_OK, parseCommand, USAGE, UsageError } from "./cli.ts";
import { ConfigError, describeProblem, printProblems } from "./config/problems.ts";
import type { Config } from "./config/schema.ts";
import { resolveSecrets } from "./config/secrets.ts";
import { encodeHandoff, takeHandoff } from "./handoff.ts";
import { ListenError } from "./http/index.ts";
import { createLogger, LOG_MAX_PENDING_BYTES, LogFileError, type Logger, openSink } from "./log/index.ts";
import { relaunchEnv } from "./runtime.ts";
import { BUILD, versionLine } from "./version.ts";

function createRootLogger(config: Config): { logger: Logger; close: () => Promise<void> } {
  const sink = openSink(config.logging.output, config.logging.file, {
    dropped: (lines) =>
      logger.warn("log output fell behind: lines dropped", {
        dropped_lines: lines,
        queue_limit_bytes: LOG_MAX_PENDING_BYTES,
      }),
    lost: (lines, error) => logger.warn("log file writes failed: lines lost", { lost_lines: lines, error }),
  });
  const logger: Logger = createLogger({
    level: config.logging.level,
    format: config.logging.format,
    write: sink.lines,
    color: config.logging.format === "pretty" && sink.isTerminal && !process.env.NO_COLOR,
  });
  return { logger, close: sink.close };
}

async function serve(configPath: string | undefined): Promise<number | "running"> {
  let loaded = takeHandoff(process.env);
  if (!loaded) {
    const { loadForServe } = await import("./startup.ts");
    loaded = loadForServe(configPath);
    // Bun reads some limits only from its environment at start-up, and the loader is dead weight
    // from here on: relaunch once with the limits set and the loaded config handed over.
    const env = relaunchEnv(loaded.config, process.env, encodeHandoff(loaded));
    if (env && typeof process.execve === "function" && process.platform !== "win32") {
      const standalone = process.argv[1]?.startsWith("/$bunfs/") ?? false;
      const args = standalone ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)];
      process.execve(process.execPath, [process.execPath, ...args], env);
    }
  }

  const { config, profiles, problems, file } = loaded;
  // Secrets are resolved here, not handed over, so none travels in the environment. The loader
  // resolved them once already, so only a change in between (a secret file removed) fails here.
  const secretProblems = resolveSecrets(config, process.env, () => undefined);
  if (secretProblems.some((problem) => problem.level === "error")) throw new ConfigError(secretProblems);

  const { logger, close } = createRootLogger(config);
  for (const problem of problems) logger.warn(describeProblem(problem));
  const app = await startApp(config, logger, profiles);

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
    config: file ?? "built-in defaults",
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
      return (await import("./startup.ts")).validate(command.configPath);
    case "config":
      return (await import("./startup.ts")).showConfig(command.configPath);
    case "health":
      return (await import("./startup.ts")).health(command.configPath, command.url);
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
  if (error instanceof LogFileError) {
    process.stderr.write(`olla: ${error.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  if (error instanceof ListenError) {
    process.stderr.write(`olla: ${error.message}\n`);
    process.exit(EXIT_FAILED);
  }
  process.stderr.write(`olla: ${(error as Error).stack ?? error}\n`);
  process.exit(EXIT_FAILED);
}
