// Small measuring tools for the benchmark: percentiles, medians, a process's RSS, wrk runs.

import { readFileSync } from "node:fs";

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const median = (values: number[]) => percentile(values, 50);

/** Resident memory of a process in MB: current and peak (VmHWM), from /proc. */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024;
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** CPU time (user + system) a process has used so far, in microseconds (from /proc/PID/stat). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of the whole line, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

export interface WrkResult {
  rps: number;
  requests: number;
  p50Us: number;
  p99Us: number;
  errors: number;
}

function toMicros(text: string): number {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value : match[2] === "ms" ? value * 1000 : value * 1e6;
}

/** One wrk run (POST with a JSON body) against a URL; wrk is the load generator for throughput. */
export async function wrk(
  url: string,
  body: string,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const script = `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`;
  const scriptPath = `/tmp/olla-bench-${process.pid}.lua`;
  await Bun.write(scriptPath, script);
  const proc = Bun.spawn(
    [
      "wrk",
      "-t1",
      `-c${connections}`,
      `-d${seconds}s`,
      "--latency",
      "--timeout",
      "10s",
      "-s",
      scriptPath,
      url,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`wrk failed: ${await new Response(proc.stderr).text()}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  const p50 = toMicros(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? "");
  const p99 = toMicros(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? "");
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0;
  const errors = non2xx + socketErrors;
  if (errors > 0)
    console.error(`wrk ${url} c=${connections}: ${non2xx} non-2xx, socket errors: ${socket?.[0] ?? "none"}`);
  return { rps, requests, p50Us: p50, p99Us: p99, errors };
}
