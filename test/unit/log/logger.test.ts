import { describe, expect, test } from "bun:test";
import { createLogger, type LogFormat } from "../../../src/log/index.ts";

const at = new Date("2026-11-24T01:02:03.456Z");

function capture(format: LogFormat, level: "debug" | "info" | "warn" | "error" = "info", color = false) {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (line) => lines.push(line), now: () => at, color });
  return { logger, lines };
}

describe("logger", () => {
  test("json: one object per line with time, level, msg and fields", () => {
    const { logger, lines } = capture("json");
    logger.info("olla started", { port: 40114, config: "config.yaml", skipped: undefined });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "2026-11-24T01:02:03.456Z",
      level: "info",
      msg: "olla started",
      port: 40114,
      config: "config.yaml",
    });
  });

  test("json: a line without fields, and a message that needs escaping", () => {
    const { logger, lines } = capture("json");
    logger.warn('say "hi"\n');
    expect(JSON.parse(lines[0]!)).toEqual({
      time: "2026-11-24T01:02:03.456Z",
      level: "warn",
      msg: 'say "hi"\n',
    });
  });

  test("errors keep their message and code", () => {
    const { logger, lines } = capture("json");
    const error = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    logger.error("probe failed", { error });
    expect(JSON.parse(lines[0]!).error).toEqual({ message: "connect ECONNREFUSED", code: "ECONNREFUSED" });
  });

  test("text: logfmt with quoting where needed", () => {
    const { logger, lines } = capture("text");
    logger.warn("endpoint down", { endpoint: "gpu-1", reason: "connection refused", tries: 3 });
    expect(lines[0]).toBe(
      'time=2026-11-24T01:02:03.456Z level=warn msg="endpoint down" endpoint=gpu-1 reason="connection refused" tries=3\n',
    );
  });

  test("pretty: short clock and level tag, colour only when asked", () => {
    const plain = capture("pretty");
    plain.logger.info("ready", { port: 1 });
    expect(plain.lines[0]).toBe("01:02:03.456 INF ready port=1\n");
    const coloured = capture("pretty", "info", true);
    coloured.logger.error("boom");
    expect(coloured.lines[0]).toContain("\x1b[31mERR\x1b[0m");
  });

  test("levels below the threshold are dropped", () => {
    const { logger, lines } = capture("json", "warn");
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["c", "d"]);
    expect(logger.enabled("info")).toBe(false);
    expect(logger.enabled("error")).toBe(true);
  });

  test("child loggers add their fields; call fields win", () => {
    const { logger, lines } = capture("json");
    const child = logger.child({ component: "health", endpoint: "a" });
    child.info("probe", { endpoint: "b" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ component: "health", endpoint: "b" });
  });
});
