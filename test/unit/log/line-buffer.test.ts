import { expect, test } from "bun:test";
import { LOG_FLUSH_MS, LineBuffer } from "../../../src/log/line-buffer.ts";

const decoder = new TextDecoder();

function collect(delayMs?: number) {
  const writes: string[] = [];
  const lines = new LineBuffer((bytes) => writes.push(decoder.decode(bytes)), delayMs);
  return { writes, lines };
}

test("lines written close together leave in one write, after the delay", async () => {
  const { writes, lines } = collect(20);
  lines.write("a\n");
  lines.write("b\n");
  expect(writes).toEqual([]);
  await Bun.sleep(5);
  lines.write("c\n");
  expect(writes).toEqual([]);
  await Bun.sleep(40);
  expect(writes).toEqual(["a\nb\nc\n"]);
  // The next line opens a new batch.
  lines.write("d\n");
  await Bun.sleep(40);
  expect(writes).toEqual(["a\nb\nc\n", "d\n"]);
});

test("by default a line waits LOG_FLUSH_MS for others, and no longer", async () => {
  const { writes, lines } = collect();
  lines.write("a\n");
  await Bun.sleep(LOG_FLUSH_MS / 2);
  lines.write("b\n");
  expect(writes).toEqual([]);
  await Bun.sleep(LOG_FLUSH_MS / 2 + 50);
  expect(writes).toEqual(["a\nb\n"]);
});

test("a burst past 64 KiB is written at once, without waiting for the timer", () => {
  const { writes, lines } = collect(60_000);
  const line = `${"x".repeat(1023)}\n`;
  for (let i = 0; i < 64; i++) lines.write(line);
  expect(writes).toHaveLength(1);
  expect(writes[0]!.length).toBe(64 * 1024);
  lines.write("tail\n");
  expect(decoder.decode(lines.take())).toBe("tail\n");
});

test("flush writes what is pending now; take hands it over for an exit-time write", () => {
  const { writes, lines } = collect(60_000);
  lines.write("one\n");
  lines.flush();
  expect(writes).toEqual(["one\n"]);
  lines.flush();
  expect(writes).toEqual(["one\n"]);
  lines.write("two é\n");
  expect(decoder.decode(lines.take())).toBe("two é\n");
  expect(lines.take().length).toBe(0);
});

test("delay 0: every line is handed on alone, as soon as it ends", () => {
  const { writes, lines } = collect(0);
  lines.write("a\n");
  lines.jsonLine(0, "info", "m").key("n").number(1).end();
  expect(writes).toEqual(["a\n", '{"time":"1970-01-01T00:00:00.000Z","level":"info","msg":"m","n":1}\n']);
});

/** One JSON line with a single field `v`, as the buffer writes it. */
function encoded(write: (lines: LineBuffer) => void): string {
  const { writes, lines } = collect(0);
  lines.jsonLine(Date.UTC(2026, 10, 24, 12, 0, 0, 7), "warn", "msg");
  write(lines.key("v"));
  lines.end();
  expect(writes).toHaveLength(1);
  return writes[0]!;
}

const expected = (value: unknown) =>
  `${JSON.stringify({ time: "2026-11-24T12:00:00.007Z", level: "warn", msg: "msg", v: value })}\n`;

test("strings come out exactly as JSON.stringify writes them", () => {
  const strings = [
    "",
    "plain /olla/api/chat?x=1",
    'quote " and backslash \\',
    "control \u0000 \u0001 \n \t \u001f and DEL \u007f",
    "non-ASCII: é, 中文, emoji 🦙",
    "lone surrogates \ud800 \udfff",
    "long ".repeat(50_000),
  ];
  for (const value of strings) {
    const line = encoded((lines) => lines.string(value));
    expect(line).toBe(expected(value));
    expect(JSON.parse(line).v).toBe(value.isWellFormed() ? value : JSON.parse(JSON.stringify(value)));
  }
  expect(encoded((lines) => lines.string(null))).toBe(expected(null));
  expect(encoded((lines) => lines.string(undefined))).toBe(expected(null));
});

test("numbers come out exactly as JSON.stringify writes them", () => {
  const numbers = [
    0,
    -0,
    1,
    7,
    10,
    99,
    100,
    1234567,
    -42,
    Number.MAX_SAFE_INTEGER,
    2 ** 53,
    1e21,
    1.5e300,
    0.1,
    0.3,
    12.5,
    -3.7,
    0.25,
    1 / 3,
    1e-7,
    123456.7,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  ];
  // Every duration the access log writes: milliseconds rounded to a tenth.
  for (let tenths = 0; tenths < 200_000; tenths += 7) numbers.push(Math.round(tenths) / 10);
  for (const value of numbers) expect(encoded((lines) => lines.number(value))).toBe(expected(value));
  expect(encoded((lines) => lines.number(undefined))).toBe(expected(null));
});

test("a line longer than the buffer grows it; the lines after it are written as usual", () => {
  const { writes, lines } = collect(60_000);
  lines.write("before\n");
  const long = "y".repeat(300_000);
  lines.jsonLine(0, "info", long).end();
  expect(writes).toHaveLength(1);
  expect(writes[0]!.startsWith("before\n{")).toBe(true);
  expect(JSON.parse(writes[0]!.slice("before\n".length)).msg).toBe(long);
  lines.write("after\n");
  lines.flush();
  expect(writes[1]).toBe("after\n");
});
