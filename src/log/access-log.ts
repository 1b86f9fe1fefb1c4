// The access log: one structured line per request, written when the request is over (for a stream:
// when its body ends), with secrets in the query string redacted. Health polls go at debug.

import type { Logger } from "./logger.ts";

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

export function writeAccessLog(logger: Logger, entry: AccessEntry, durationMs: number): void {
  const quiet = QUIET_PATHS.has(entry.path);
  // Nothing to build when the line's level is off (logging.level: warn and above).
  if (!logger.enabled(quiet ? "debug" : "info")) return;
  const fields = {
    component: "access",
    request_id: entry.requestId,
    client_ip: entry.clientIp ?? null,
    method: entry.method,
    path: entry.path + redactQuery(entry.search),
    endpoint: entry.endpoint ?? null,
    model: entry.model ?? null,
    status: entry.status,
    bytes_in: entry.bytesIn,
    bytes_out: entry.bytesOut,
    duration_ms: round(durationMs),
    ttft_ms: entry.ttftMs === undefined ? null : round(entry.ttftMs),
    tokens_in: entry.usage?.input ?? null,
    tokens_out: entry.usage?.output ?? null,
    ...(entry.failure ? { failure: entry.failure } : {}),
  };
  if (quiet) logger.debug("request", fields);
  else logger.info("request", fields);
}
