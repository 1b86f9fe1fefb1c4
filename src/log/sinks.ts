// Where log lines go: stdout, stderr, or an append-only file (created with its folder). Lines written in
// one task leave in one write at its end (one access-log line per request must not cost a system call
// per request under load); whatever is pending goes out synchronously at exit.

import { createWriteStream, mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface LogSink {
  write: (line: string) => void;
  /** Flushes and closes a file; flushes the standard streams. */
  close: () => Promise<void>;
  /** True when lines reach an interactive terminal (so colour is welcome). */
  isTerminal: boolean;
}

/** Collects lines and hands them to `out` at the end of the current task (a microtask: no extra turn
 * of the event loop, which would cost more than the write). */
function batched(out: (text: string) => void) {
  let pending: string[] = [];
  let scheduled = false;
  /** Everything not written yet, taken out of the buffer. */
  const take = (): string => {
    const text = pending.length === 1 ? pending[0]! : pending.join("");
    pending = [];
    return text;
  };
  const flush = () => {
    scheduled = false;
    if (pending.length > 0) out(take());
  };
  return {
    write(line: string) {
      pending.push(line);
      if (!scheduled) {
        scheduled = true;
        queueMicrotask(flush);
      }
    },
    flush,
    take,
  };
}

export function openSink(output: "stdout" | "stderr" | "file", file: string): LogSink {
  if (output === "file") {
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file, { flags: "a" });
    const lines = batched((text) => void stream.write(text));
    return {
      write: lines.write,
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
  const lines = batched((text) => void stream.write(text));
  // process.exit() skips pending timers: the last lines (a fatal error, "olla stopped") go out here.
  process.on("exit", () => {
    try {
      const pending = lines.take();
      if (pending) writeSync(fd, pending);
    } catch {
      // Nothing left to tell.
    }
  });
  return {
    write: lines.write,
    close: async () => lines.flush(),
    isTerminal: Boolean(stream.isTTY),
  };
}
