// Where log lines go: stdout, stderr, or an append-only file (created with its folder).

import { createWriteStream, mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface LogSink {
  write: (line: string) => void;
  /** Flushes and closes a file; a no-op for the standard streams. */
  close: () => Promise<void>;
  /** True when lines reach an interactive terminal (so colour is welcome). */
  isTerminal: boolean;
}

export function openSink(output: "stdout" | "stderr" | "file", file: string): LogSink {
  if (output === "file") {
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file, { flags: "a" });
    return {
      write: (line) => void stream.write(line),
      close: () => new Promise((done) => stream.end(done)),
      isTerminal: false,
    };
  }
  const stream = output === "stderr" ? process.stderr : process.stdout;
  // A reader that went away (e.g. `olla | head`) must not take the server down with EPIPE.
  stream.on("error", () => {});
  return {
    write: (line) => void stream.write(line),
    close: async () => {},
    isTerminal: Boolean(stream.isTTY),
  };
}
