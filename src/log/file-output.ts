// The log file (logging.output: file): opened at start-up, so a path olla cannot write to stops it with a
// message naming logging.file, then written one batch at a time with fs.write. A write that fails (a
// full disk, an I/O error) costs its lines, never the server: stderr says so once, the next batch tries
// again, and the first that goes through is followed by a warning with the count of lines lost.

import { closeSync, mkdirSync, openSync, write as fsWrite } from "node:fs";
import { dirname } from "node:path";
import { type BatchStream, countLines } from "./paced-output.ts";

/** The log file cannot be opened for appending. */
export class LogFileError extends Error {
  constructor(path: string, cause: unknown) {
    super(
      `cannot open the log file ${path} (logging.file) for appending: ${(cause as Error)?.message ?? cause}. ` +
        "Pick a writable path with logging.file / OLLA_LOGGING_FILE, or log to stdout.",
    );
    this.name = "LogFileError";
  }
}

export interface LogFile extends BatchStream {
  /** The descriptor, for the synchronous write at exit. */
  readonly fd: number;
  close(): void;
}

export interface LogFileOptions {
  /** Told, after the first write that goes through again, how many lines failed writes lost and why. */
  onLost?: (lines: number, error: Error) => void;
  /** Where a failure is first told (the log itself cannot say it). */
  warn?: (message: string) => void;
  /** fs.write; a test stands in a disk that fails and recovers. */
  write?: typeof fsWrite;
}

export function openLogFile(path: string, options: LogFileOptions = {}): LogFile {
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(path, "a");
  } catch (error) {
    throw new LogFileError(path, error);
  }
  const write = options.write ?? fsWrite;
  const warn = options.warn ?? ((message: string) => void process.stderr.write(message));
  const drained: (() => void)[] = [];
  let lost = 0;
  let failure: Error | undefined;

  const finished = () => {
    for (const listener of drained) listener();
  };

  const writeFrom = (batch: Uint8Array, offset: number) => {
    write(fd, batch, offset, batch.byteLength - offset, null, (error, written) => {
      if (error) {
        if (failure === undefined) {
          warn(
            `olla: cannot write the log to ${path} (${error.message}); lines are dropped until it works again\n`,
          );
        }
        failure = error;
        lost += countLines(batch.subarray(offset));
        finished();
        return;
      }
      if (offset + written < batch.byteLength) {
        writeFrom(batch, offset + written);
        return;
      }
      if (failure !== undefined) {
        const why = failure;
        const lines = lost;
        failure = undefined;
        lost = 0;
        options.onLost?.(lines, why);
      }
      finished();
    });
  };

  return {
    fd,
    // One write at a time: "full" until it is done, so the batches behind it wait in PacedOutput.
    write(batch) {
      writeFrom(batch, 0);
      return false;
    },
    on(_event, listener) {
      drained.push(listener);
    },
    close() {
      try {
        closeSync(fd);
      } catch {
        // Closed already, or the disk is gone: nothing more to write either way.
      }
    },
  };
}
