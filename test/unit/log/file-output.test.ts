// The log file: opened at start-up (a path that cannot be written is an error naming logging.file),
// written one batch at a time, and a failed write costs its lines, counted and told, never the server.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, write as fsWrite } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LogFileError, openLogFile } from "../../../src/log/file-output.ts";
import { pacedOutput } from "../../../src/log/paced-output.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "olla-log-file-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const encode = (text: string) => new TextEncoder().encode(text);

describe("openLogFile", () => {
  test("appends to the file, creating its folders; batches queued behind a write go out in order", async () => {
    const path = join(dir, "a", "b", "olla.log");
    const file = openLogFile(path);
    const output = pacedOutput(file);
    for (let i = 0; i < 50; i++) output.write(encode(`line ${i}\n`));
    await output.idle();
    file.close();
    const expected = Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join("");
    expect(readFileSync(path, "utf8")).toBe(expected);
    // Appends: a second run adds to what is there.
    const again = openLogFile(path);
    const second = pacedOutput(again);
    second.write(encode("more\n"));
    await second.idle();
    again.close();
    expect(readFileSync(path, "utf8")).toBe(`${expected}more\n`);
  });

  test("a path that cannot be opened is a LogFileError naming logging.file and the cause", () => {
    expect(() => openLogFile(dir)).toThrow(LogFileError);
    expect(() => openLogFile(dir)).toThrow(/logging\.file.*EISDIR/);
  });

  test("failed writes lose their lines, counted: stderr is told once, the log after the next good write", async () => {
    const path = join(dir, "flaky.log");
    let failing = true;
    // A disk that is full until the test frees it: the real fs.write, or ENOSPC.
    const write = ((fd, buffer, offset, length, position, callback) => {
      if (!failing) return fsWrite(fd, buffer, offset, length, position, callback);
      const error = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
      queueMicrotask(() => callback(error, 0, buffer));
    }) as typeof fsWrite;
    const warnings: string[] = [];
    const lost: [number, string][] = [];
    const file = openLogFile(path, {
      write,
      warn: (message) => warnings.push(message),
      onLost: (lines, error) => lost.push([lines, error.message]),
    });
    const output = pacedOutput(file);
    output.write(encode("a\nb\n"));
    output.write(encode("c\n"));
    await output.idle();
    expect(warnings).toEqual([
      `olla: cannot write the log to ${path} (ENOSPC: no space left on device, write); lines are dropped until it works again\n`,
    ]);
    expect(lost).toEqual([]);

    failing = false;
    output.write(encode("d\n"));
    await output.idle();
    expect(lost).toEqual([[3, "ENOSPC: no space left on device, write"]]);
    expect(readFileSync(path, "utf8")).toBe("d\n");

    // A second failure is told again, then counted afresh.
    failing = true;
    output.write(encode("e\n"));
    await output.idle();
    failing = false;
    output.write(encode("f\n"));
    await output.idle();
    file.close();
    expect(warnings.length).toBe(2);
    expect(lost).toEqual([
      [3, "ENOSPC: no space left on device, write"],
      [1, "ENOSPC: no space left on device, write"],
    ]);
    expect(readFileSync(path, "utf8")).toBe("d\nf\n");
  });

  test.skipIf(process.platform !== "linux")(
    "a real full disk (/dev/full): told, and nothing thrown",
    async () => {
      const warnings: string[] = [];
      const file = openLogFile("/dev/full", { warn: (message) => warnings.push(message) });
      const output = pacedOutput(file);
      output.write(encode("x\n"));
      await output.idle();
      file.close();
      expect(warnings.length).toBe(1);
      expect(warnings[0]).toContain("ENOSPC");
    },
  );
});
