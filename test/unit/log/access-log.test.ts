import { expect, test } from "bun:test";
import {
  type AccessEntry,
  createLogger,
  type LogFormat,
  type LogLevel,
  writeAccessLog,
} from "../../../src/log/index.ts";

const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30, 0, 250));

function logged(
  entry: AccessEntry,
  durationMs: number,
  format: LogFormat = "json",
  level: LogLevel = "info",
) {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (line) => lines.push(line), now: () => NOW });
  writeAccessLog(logger, entry, durationMs);
  return lines;
}

const entry: AccessEntry = {
  requestId: "req-1",
  clientIp: "10.0.0.7",
  method: "POST",
  path: "/olla/api/chat",
  search: "?api_key=s3cret&x=1",
  endpoint: "gpu-1",
  model: 'llama3.2:3b "q4"',
  status: 200,
  bytesIn: 120,
  bytesOut: 4096,
  ttftMs: 12.345,
  usage: { input: 10, output: 42 },
};

test("json: the encoded line is the one JSON.stringify makes of the fields, in order", () => {
  expect(logged(entry, 1234.56)).toEqual([
    `${JSON.stringify({
      time: NOW.toISOString(),
      level: "info",
      msg: "request",
      component: "access",
      request_id: "req-1",
      client_ip: "10.0.0.7",
      method: "POST",
      path: "/olla/api/chat?api_key=REDACTED&x=1",
      endpoint: "gpu-1",
      model: 'llama3.2:3b "q4"',
      status: 200,
      bytes_in: 120,
      bytes_out: 4096,
      duration_ms: 1234.6,
      ttft_ms: 12.3,
      tokens_in: 10,
      tokens_out: 42,
    })}\n`,
  ]);
});

test("json: what is unknown is null, and a failure is named only when there is one", () => {
  const bare: AccessEntry = {
    requestId: "r",
    clientIp: undefined,
    method: "GET",
    path: "/olla/v1/models",
    search: "",
    status: 502,
    bytesIn: 0,
    bytesOut: 0,
    failure: "all_failed",
  };
  const line = JSON.parse(logged(bare, 0.04)[0]!);
  expect(line).toEqual({
    time: NOW.toISOString(),
    level: "info",
    msg: "request",
    component: "access",
    request_id: "r",
    client_ip: null,
    method: "GET",
    path: "/olla/v1/models",
    endpoint: null,
    model: null,
    status: 502,
    bytes_in: 0,
    bytes_out: 0,
    duration_ms: 0,
    ttft_ms: null,
    tokens_in: null,
    tokens_out: null,
    failure: "all_failed",
  });
});

test("sticky_outcome is written last, only when sticky sessions gave one", () => {
  const sticky = JSON.parse(logged({ ...entry, stickyOutcome: "repin" }, 1)[0]!);
  expect(Object.entries(sticky).at(-1)).toEqual(["sticky_outcome", "repin"]);
  expect(JSON.parse(logged(entry, 1)[0]!)).not.toHaveProperty("sticky_outcome");
  expect(logged({ ...entry, stickyOutcome: "hit" }, 1, "text")[0]).toContain(" sticky_outcome=hit");
});

test("text format: the same fields, through the logger's fields path", () => {
  const [line] = logged(entry, 5);
  const [text] = logged(entry, 5, "text");
  expect(text).toStartWith(
    `time=${NOW.toISOString()} level=info msg=request component=access request_id=req-1 `,
  );
  expect(text).toContain(' model="llama3.2:3b \\"q4\\"" status=200 ');
  expect(text).toContain(' path="/olla/api/chat?api_key=REDACTED&x=1" ');
  // Every JSON field is in the text line too.
  for (const key of Object.keys(JSON.parse(line!))) expect(text).toMatch(new RegExp(`(^| )${key}=`));
});

test("health polls are logged at debug; levels above info write nothing", () => {
  const health = { ...entry, path: "/internal/health", search: "" };
  expect(logged(health, 1)).toEqual([]);
  expect(JSON.parse(logged(health, 1, "json", "debug")[0]!).level).toBe("debug");
  expect(logged(entry, 1, "json", "warn")).toEqual([]);
});

test("a child logger's fields are merged into the line", () => {
  const lines: string[] = [];
  const logger = createLogger({
    level: "info",
    format: "json",
    write: (line) => lines.push(line),
    now: () => NOW,
  });
  writeAccessLog(logger.child({ instance: "a" }), entry, 1);
  const line = JSON.parse(lines[0]!);
  expect(line.instance).toBe("a");
  expect(line.request_id).toBe("req-1");
});
