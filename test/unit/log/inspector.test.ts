import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInspector, createLogger, sessionFileName } from "../../../src/log/index.ts";

const dir = mkdtempSync(join(tmpdir(), "olla-inspector-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("entries go to <dir>/<day>/<session>.jsonl, owner-only, one JSON line each", () => {
  const inspect = createInspector(dir, createLogger({ level: "error", format: "json", write: () => {} }));
  inspect({ type: "request", session: "team/a b", model: "m", body: { hello: 1 } });
  inspect({ type: "response", session: "team/a b", model: "m", body: { ok: true } });
  const [day] = readdirSync(dir);
  expect(day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  const file = join(dir, day!, "team_a_b.jsonl");
  const lines = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  expect(lines.map((line) => [line.type, line.model, line.body])).toEqual([
    ["request", "m", { hello: 1 }],
    ["response", "m", { ok: true }],
  ]);
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

test("session names cannot climb out of the folder", () => {
  expect(sessionFileName("../../etc/passwd")).toBe("__.._etc_passwd.jsonl");
  expect(sessionFileName("")).toBe("default.jsonl");
});
