import { expect, test } from "bun:test";
import { batched } from "../../../src/log/sinks.ts";

test("lines written close together leave in one write, after the delay", async () => {
  const writes: string[] = [];
  const lines = batched((text) => writes.push(text), 20);
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

test("a burst past 64 KiB is written at once, without waiting for the timer", () => {
  const writes: string[] = [];
  const lines = batched((text) => writes.push(text), 60_000);
  const line = `${"x".repeat(1023)}\n`;
  for (let i = 0; i < 64; i++) lines.write(line);
  expect(writes).toHaveLength(1);
  expect(writes[0]!.length).toBe(64 * 1024);
  lines.write("tail\n");
  expect(lines.take()).toBe("tail\n");
});

test("flush writes what is pending now; take hands it over for an exit-time write", () => {
  const writes: string[] = [];
  const lines = batched((text) => writes.push(text), 60_000);
  lines.write("one\n");
  lines.flush();
  expect(writes).toEqual(["one\n"]);
  lines.flush();
  expect(writes).toEqual(["one\n"]);
  lines.write("two\n");
  expect(lines.take()).toBe("two\n");
  expect(lines.take()).toBe("");
});
