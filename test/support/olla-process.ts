// Runs the real olla CLI (src/main.ts under Bun) as a child process, for tests of start-up,
// exit codes and signals. Servers listen on port 0; the actual address is read from the start-up log.

import { resolve } from "node:path";

export const MAIN = resolve(import.meta.dir, "../../src/main.ts");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Env for a child olla: the parent's, minus OLLA_* and Bun launch settings that would leak in. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith("OLLA_")) continue;
    if (name === "BUN_CONFIG_MAX_HTTP_REQUESTS" || name === "BUN_OPTIONS") continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs any command to completion, bounded by a timeout, with exactly the environment given. */
export async function runCommand(
  command: string[],
  options: { cwd?: string; env: Record<string, string>; timeoutMs?: number },
): Promise<RunResult> {
  const proc = Bun.spawn(command, {
    cwd: options.cwd,
    env: options.env,
    stdout: "pipe",
    stderr: "pipe",
    timeout: options.timeoutMs ?? 15_000,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Runs a command that exits by itself (version, validate, config), bounded by a timeout. */
export function runOlla(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return runCommand([process.execPath, MAIN, ...args], { ...options, env: cleanEnv(options.env) });
}

/** What `<binary> --version` prints (a built olla), run with a clean environment. */
export async function versionOf(binary: string): Promise<string> {
  return (await runCommand([binary, "--version"], { env: cleanEnv() })).stdout;
}

/** The "olla started" log record from a child's stdout (health transitions may be logged before it). */
export async function startedLine(
  stdout: ReadableStream<Uint8Array>,
): Promise<{ listen: string; [key: string]: unknown }> {
  let text = "";
  for await (const chunk of stdout) {
    text += new TextDecoder().decode(chunk);
    const line = text.split("\n").find((candidate) => candidate.includes('"olla started"'));
    if (line) return JSON.parse(line);
  }
  throw new Error(`olla exited without starting:\n${text}`);
}

export interface RunningOlla {
  url: string;
  pid: number;
  /** Every stdout line so far (JSON log lines by default). */
  lines: string[];
  /** Resolves with the first log line whose `msg` equals the given one. */
  waitForLog(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  signal(name: NodeJS.Signals): void;
  exited: Promise<number>;
  /** SIGKILL if still running; always safe to call in afterAll. */
  kill(): void;
}

/** Starts `olla serve`, waits for "olla started", and returns its address. */
export async function startOlla(
  args: string[] = [],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunningOlla> {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    cwd: options.cwd,
    env: cleanEnv({ OLLA_SERVER_PORT: "0", OLLA_SERVER_HOST: "127.0.0.1", ...options.env }),
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const waiters: { msg: string; resolve: (record: Record<string, unknown>) => void }[] = [];
  let stderr = "";
  const parse = (line: string) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const pump = (async () => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of proc.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        const record = parse(line);
        for (const waiter of [...waiters]) {
          if (record?.msg === waiter.msg) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve(record);
          }
        }
        newline = buffered.indexOf("\n");
      }
    }
  })();
  void (async () => {
    stderr = await new Response(proc.stderr).text();
  })();

  const waitForLog = (msg: string, timeoutMs = 10_000) => {
    const seen = lines.map(parse).find((record) => record?.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`olla did not log "${msg}" within ${timeoutMs} ms\n${lines.join("\n")}\n${stderr}`),
          ),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (record) => {
          clearTimeout(timer);
          resolve(record);
        },
      });
    });
  };

  const exited = proc.exited.then(async (code) => {
    await pump;
    return code;
  });
  const started = await Promise.race([
    waitForLog("olla started", options.timeoutMs ?? 10_000),
    exited.then((code) => {
      throw new Error(`olla exited with ${code} before starting\n${lines.join("\n")}\n${stderr}`);
    }),
  ]);
  return {
    url: String(started.listen).replace(/\/$/, ""),
    pid: proc.pid,
    lines,
    waitForLog,
    signal: (name) => proc.kill(name),
    exited,
    kill: () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}
