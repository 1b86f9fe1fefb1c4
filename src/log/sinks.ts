// Where log lines go: stdout, stderr, or an append-only file (created with its folder). Lines are
// gathered for up to LOG_FLUSH_MS and leave in one write (see LineBuffer), no faster than the output
// takes them (see PacedOutput); what is pending goes out synchronously at exit.

import { writeSync } from "node:fs";
import { openLogFile } from "./file-output.ts";
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

/** What the sink tells the logger, which comes after it (each is a warning line of its own). */
export interface SinkNotices {
  /** Lines dropped while the output was not keeping up, told once it has caught up. */
  dropped?: (lines: number) => void;
  /** Lines a failed file write lost, told after the first write that went through again. */
  lost?: (lines: number, error: Error) => void;
}

/** Throws LogFileError when logging.file cannot be opened. */
export function openSink(
  output: "stdout" | "stderr" | "file",
  file: string,
  notices: SinkNotices = {},
): LogSink {
  if (output === "file") {
    const logFile = openLogFile(file, { onLost: notices.lost });
    const paced = pacedOutput(logFile, { onDropped: notices.dropped });
    const lines = new LineBuffer((bytes) => paced.write(bytes));
    writeAtExit(logFile.fd, paced.take, lines);
    return {
      lines,
      close: async () => {
        lines.flush();
        // A file that takes nothing more (a stuck network disk) must not hold the exit for long.
        await Promise.race([paced.idle(), Bun.sleep(CLOSE_WAIT_MS)]);
        logFile.close();
      },
      isTerminal: false,
    };
  }
  const stream = output === "stderr" ? process.stderr : process.stdout;
  // A reader that went away (e.g. `olla | head`) must not take the server down with EPIPE.
  stream.on("error", () => {});
  const paced = pacedOutput(stream, { onDropped: notices.dropped });
  const lines = new LineBuffer((bytes) => paced.write(bytes));
  writeAtExit(output === "stderr" ? 2 : 1, paced.take, lines);
  return {
    lines,
    close: async () => lines.flush(),
    isTerminal: Boolean(stream.isTTY),
  };
}

/** process.exit() skips pending timers: the last lines (a fatal error, "olla stopped") go out here,
 * behind the batches still queued. */
function writeAtExit(fd: number, queued: () => Uint8Array[], lines: LineBuffer): void {
  process.on("exit", () => {
    try {
      for (const batch of [...queued(), lines.take()]) if (batch.length > 0) writeSync(fd, batch);
    } catch {
      // Nothing left to tell.
    }
  });
}
