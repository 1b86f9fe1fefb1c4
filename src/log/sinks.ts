// Where log lines go: stdout, stderr, or an append-only file (created with its folder). Lines are
// gathered for up to LOG_FLUSH_MS and leave in one write (see LineBuffer); what is pending goes out
// synchronously at exit.

import { createWriteStream, mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { LineBuffer } from "./line-buffer.ts";

export interface LogSink {
  /** The logger writes into it (createLogger's `write`). */
  lines: LineBuffer;
  /** Flushes and closes a file; flushes the standard streams. */
  close: () => Promise<void>;
  /** True when lines reach an interactive terminal (so colour is welcome). */
  isTerminal: boolean;
}

export function openSink(output: "stdout" | "stderr" | "file", file: string): LogSink {
  if (output === "file") {
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file, { flags: "a" });
    const lines = new LineBuffer((bytes) => void stream.write(bytes));
    return {
      lines,
      close: () => {
        lines.flush();
        return new Promise((done) => stream.end(done));
      },
      isTerminal: false,
    };
  }
  const stream = output === "stderr" ? process.stderr : process.stdout;
  const fd = output === "stderr" ? 2 : 1;
  // A reader that went away (e.g. `olla | head`) must not take the server down with EPIPE.
  stream.on("error", () => {});
  const lines = new LineBuffer((bytes) => void stream.write(bytes));
  // process.exit() skips pending timers: the last lines (a fatal error, "olla stopped") go out here.
  process.on("exit", () => {
    try {
      const pending = lines.take();
      if (pending.length > 0) writeSync(fd, pending);
    } catch {
      // Nothing left to tell.
    }
  });
  return {
    lines,
    close: async () => lines.flush(),
    isTerminal: Boolean(stream.isTTY),
  };
}
