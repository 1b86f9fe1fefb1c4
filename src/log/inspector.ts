// The Anthropic translation inspector (debugging only): each request and answer appended as a JSON line
// to <output_dir>/<YYYY-MM-DD>/<session>.jsonl, readable by the owner only. Writes are synchronous: it
// is a debugging aid, never on in production (olla warns at start-up).

import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "./logger.ts";

export interface InspectorRecord {
  type: "request" | "response";
  session: string;
  model?: string;
  body: unknown;
}

/** Session names become file names: anything but letters, digits, dot, dash and underscore goes. */
export function sessionFileName(session: string): string {
  const clean = session
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .replace(/^\.+/, "_")
    .slice(0, 100);
  return `${clean || "default"}.jsonl`;
}

export function createInspector(dir: string, logger: Logger): (record: InspectorRecord) => void {
  let failed = false;
  return (record) => {
    const now = new Date();
    const day = join(dir, now.toISOString().slice(0, 10));
    try {
      mkdirSync(day, { recursive: true, mode: 0o700 });
      const line = JSON.stringify({
        type: record.type,
        ts: now.toISOString(),
        model: record.model,
        body: record.body,
      });
      appendFileSync(join(day, sessionFileName(record.session)), `${line}\n`, { mode: 0o600 });
    } catch (error) {
      // One warning, not one per request.
      if (!failed) logger.warn("inspector cannot write", { dir, error });
      failed = true;
    }
  };
}
