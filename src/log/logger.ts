// Structured logger: one line per event as json, text (logfmt) or pretty (coloured on a terminal).
// Level checks come first so a disabled debug line costs one comparison.

import { LineBuffer } from "./line-buffer.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "text" | "pretty";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line. */
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
  /** A JSON line at this level, opened (time, level, msg) for the caller to add fields to and end():
   *  no fields object, no strings (the access log). Undefined when the line is not to be written that
   *  way: level off, format not json, or fields of a child logger to merge; use the fields methods then. */
  jsonLine(level: LogLevel, message: string): LineBuffer | undefined;
}

export interface LoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Receives one finished line (with its newline), or gathers lines as bytes (the real sinks). */
  write: ((line: string) => void) | LineBuffer;
  /** Colour the pretty format (only when writing to a terminal). */
  color?: boolean;
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SHORT: Record<LogLevel, string> = { debug: "DBG", info: "INF", warn: "WRN", error: "ERR" };
const COLOR: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
const decoder = new TextDecoder();

/** Errors become {message, code, ...} so they survive JSON.stringify. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as NodeJS.ErrnoException).code;
    return code ? { message: value.message, code } : { message: value.message };
  }
  return value;
}

function hasError(fields: LogFields): boolean {
  for (const key in fields) if (fields[key] instanceof Error) return true;
  return false;
}

function plainFields(fields: LogFields): LogFields {
  const copy: LogFields = {};
  for (const key in fields) copy[key] = plain(fields[key]);
  return copy;
}

function logfmtValue(value: unknown): string {
  const shown = plain(value);
  const text = typeof shown === "string" ? shown : JSON.stringify(shown);
  if (text === undefined) return "undefined";
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

function render(
  format: LogFormat,
  level: LogLevel,
  time: Date,
  message: string,
  fields: LogFields,
  color: boolean,
) {
  if (format === "json") {
    // The fields are serialised as they are (JSON.stringify leaves out undefined values), not copied
    // into a new object: the access log writes a line per request.
    const head = `{"time":"${time.toISOString()}","level":"${level}","msg":${JSON.stringify(message)}`;
    const body = JSON.stringify(hasError(fields) ? plainFields(fields) : fields);
    return body === "{}" ? `${head}}\n` : `${head},${body.slice(1)}\n`;
  }
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) =>
      color ? `${DIM}${key}=${RESET}${logfmtValue(value)}` : `${key}=${logfmtValue(value)}`,
    );
  if (format === "text") {
    const head = `time=${time.toISOString()} level=${level} msg=${logfmtValue(message)}`;
    return `${[head, ...pairs].join(" ")}\n`;
  }
  const clock = time.toISOString().slice(11, 23);
  const tag = color ? `${COLOR[level]}${SHORT[level]}${RESET}` : SHORT[level];
  const stamp = color ? `${DIM}${clock}${RESET}` : clock;
  return `${[`${stamp} ${tag} ${message}`, ...pairs].join(" ")}\n`;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const threshold = RANK[options.level];
  const now = options.now ?? (() => new Date());
  const color = options.color ?? false;
  const baseEmpty = Object.keys(base).length === 0;
  const sink = options.write;
  const write = sink instanceof LineBuffer ? (line: string) => sink.write(line) : sink;
  // A line-at-a-time writer gets hand-encoded JSON lines as strings too, one per call.
  const jsonLines =
    options.format !== "json" || !baseEmpty
      ? undefined
      : sink instanceof LineBuffer
        ? sink
        : new LineBuffer((bytes) => sink(decoder.decode(bytes)), 0);
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    // No copy when there is nothing to merge.
    const merged = fields ? (baseEmpty ? fields : { ...base, ...fields }) : base;
    write(render(options.format, level, now(), message, merged, color));
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
    enabled: (level) => RANK[level] >= threshold,
    jsonLine: (level, message) =>
      jsonLines && RANK[level] >= threshold
        ? jsonLines.jsonLine(options.now ? options.now().getTime() : Date.now(), level, message)
        : undefined,
  };
}
