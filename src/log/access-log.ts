// The access log: one structured line per request, written when the request is over (for a stream:
// when its body ends), with secrets in the query string redacted. Health polls go at debug.

import type { LogFields, Logger } from "./logger.ts";

export interface AccessEntry {
  requestId: string;
  clientIp: string | undefined;
  method: string;
  path: string;
  search: string;
  endpoint?: string;
  model?: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  ttftMs?: number;
  usage?: { input: number; output: number };
  failure?: string;
  stickyOutcome?: string;
}

const SECRET_PARAM = /key|token|secret|password|auth|sig|credential/i;

/** The query string with secret-looking parameter values replaced. */
export function redactQuery(search: string): string {
  if (search === "" || search === "?") return "";
  const params = new URLSearchParams(search);
  for (const [name] of params) if (SECRET_PARAM.test(name)) params.set(name, "REDACTED");
  const text = params.toString();
  return text ? `?${text}` : "";
}

const QUIET_PATHS = new Set(["/internal/health"]);
const round = (ms: number) => Math.round(ms * 10) / 10;

type FieldValue = string | number | null | undefined;

/** The line's fields in order, once for both ways of writing it; undefined leaves a field out. */
const FIELDS: readonly (readonly [string, (entry: AccessEntry, durationMs: number) => FieldValue])[] = [
  ["component", () => "access"],
  ["request_id", (entry) => entry.requestId],
  ["client_ip", (entry) => entry.clientIp ?? null],
  ["method", (entry) => entry.method],
  ["path", (entry) => (entry.search === "" ? entry.path : entry.path + redactQuery(entry.search))],
  ["endpoint", (entry) => entry.endpoint ?? null],
  ["model", (entry) => entry.model ?? null],
  ["status", (entry) => entry.status],
  ["bytes_in", (entry) => entry.bytesIn],
  ["bytes_out", (entry) => entry.bytesOut],
  ["duration_ms", (_, durationMs) => round(durationMs)],
  ["ttft_ms", (entry) => (entry.ttftMs === undefined ? null : round(entry.ttftMs))],
  ["tokens_in", (entry) => entry.usage?.input ?? null],
  ["tokens_out", (entry) => entry.usage?.output ?? null],
  ["failure", (entry) => entry.failure || undefined],
  // Only with sticky sessions on.
  ["sticky_outcome", (entry) => entry.stickyOutcome],
];

export function writeAccessLog(logger: Logger, entry: AccessEntry, durationMs: number): void {
  const level = QUIET_PATHS.has(entry.path) ? "debug" : "info";
  // Nothing to build when the line's level is off (logging.level: warn and above).
  if (!logger.enabled(level)) return;
  // JSON lines are encoded straight into the log's buffer: no garbage per request.
  const line = logger.jsonLine(level, "request");
  if (line) {
    for (const field of FIELDS) {
      const value = field[1](entry, durationMs);
      if (value === undefined) continue;
      line.key(field[0]);
      if (typeof value === "number") line.number(value);
      else line.string(value);
    }
    line.end();
    return;
  }
  const fields: LogFields = {};
  for (const field of FIELDS) {
    const value = field[1](entry, durationMs);
    if (value !== undefined) fields[field[0]] = value;
  }
  if (level === "debug") logger.debug("request", fields);
  else logger.info("request", fields);
}
