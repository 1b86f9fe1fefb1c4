// Where log lines go: stdout, stderr, or an append-only file (created with its folder). Lines are
// gathered for up to LOG_FLUSH_MS and leave in one write (see LineBuffer), no faster than the output
// takes them (see PacedOutput); what is pending goes out synchronously at exit.

import { createWriteStream, mkdirSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { LineBuffer } from "./line-buffer.ts";
import { pacedOutput } from "./paced-output.ts";

/** How long closing waits for a file to take the queued lines. */
const CLOSE_WAIT_MS = 2000;

export interface LogSink {
  /** The logger writes into it (createLogger's `write`). */
  lines: LineBuffer;
  /** Flushes and closes a file; flushes the standard streams. */
  close: () => Promise<void>;
  /** True when lines reach an interactive terminal (so colour is welcome). */
  isTerminal: boolean;
}

/**
 * @param onDropped told how many lines were dropped while the output was not keeping up, once it has
 * caught up again (the caller logs it: the sink comes before the logger).
 */
export function openSink(
  output: "stdout" | "stderr" | "file",
  file: string,
  onDropped?: (lines: number) => void,
): LogSink {
  if (output === "file") {
    mkdirSync(dirname(file), { recursive: true });
    const stream = createWriteStream(file, { flags: "a" });
    const paced = pacedOutput(stream, { onDropped });
    const lines = new LineBuffer((bytes) => paced.write(bytes));
    return {
      lines,
      close: async () => {
        lines.flush();
        // A file that takes nothing more (a stuck network disk) must not hold the exit for long.
        await Promise.race([paced.idle(), Bun.sleep(CLOSE_WAIT_MS)]);
        await new Promise((done) => stream.end(done));
      },
      isTerminal: false,
    };
  }
  const stream = output === "stderr" ? process.stderr : process.stdout;
  const fd = output === "stderr" ? 2 : 1;
  // A reader that went away (e.g. `olla | head`) must not take the server down with EPIPE.
  stream.on("error", () => {});
  const paced = pacedOutput(stream, { onDropped });
  const lines = new LineBuffer((bytes) => paced.write(bytes));
  // process.exit() skips pending timers: the last lines (a fatal error, "olla stopped") go out here,
  // behind the batches still queued.
  process.on("exit", () => {
    try {
      for (const batch of [...paced.take(), lines.take()]) if (batch.length > 0) writeSync(fd, batch);
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
