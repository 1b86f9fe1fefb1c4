// Reads a streamed HTTP body the way a client sees it: SSE events or NDJSON objects, each stamped with
// when it arrived and which network read completed it, so tests can tell paced chunks from coalesced ones.

export interface SseEvent {
  /** The `event:` field, when present. */
  event: string | undefined;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** `data` parsed as JSON, or undefined when it is not JSON (e.g. `[DONE]`). */
  json: unknown;
  /** `performance.now()` when the read that completed this event arrived. */
  at: number;
  /** Index of the network read that completed this event. */
  read: number;
}

export interface NdjsonObject {
  value: unknown;
  at: number;
  read: number;
}

export interface ReadOptions {
  /** Resolve with `error` set when the body fails mid-way, instead of rejecting. Default false. */
  allowError?: boolean;
}

export interface StreamRead {
  /** Network reads seen. */
  reads: number;
  /** The read error (e.g. ECONNRESET when the server cut the stream), or null after a clean end. */
  error: unknown;
}

type Source = Response | ReadableStream<Uint8Array> | null;

/** Feeds complete lines (without "\n" or "\r\n") to `onLine`; returns what was left unterminated. */
async function readLines(
  source: Source,
  options: ReadOptions,
  onLine: (line: string, at: number, read: number) => void,
): Promise<StreamRead & { rest: string }> {
  const body = source instanceof Response ? source.body : source;
  if (!body) return { reads: 0, error: null, rest: "" };
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let reads = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const at = performance.now();
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) onLine(line.endsWith("\r") ? line.slice(0, -1) : line, at, reads);
      reads++;
    }
  } catch (error) {
    if (!options.allowError) throw error;
    return { reads, error, rest: "" };
  }
  return { reads, error: null, rest: buffer + decoder.decode() };
}

/** Reads a `text/event-stream` body into events (an unterminated last event is dropped, as browsers do). */
export async function readSse(
  source: Source,
  options: ReadOptions = {},
): Promise<StreamRead & { events: SseEvent[] }> {
  const events: SseEvent[] = [];
  let event: string | undefined;
  let data: string[] = [];
  const result = await readLines(source, options, (line, at, read) => {
    if (line === "") {
      if (data.length > 0 || event !== undefined) {
        const text = data.join("\n");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        events.push({ event, data: text, json, at, read });
      }
      event = undefined;
      data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
  });
  return { events, reads: result.reads, error: result.error };
}

/** Reads an `application/x-ndjson` body into parsed objects; a bad line throws. */
export async function readNdjson(
  source: Source,
  options: ReadOptions = {},
): Promise<StreamRead & { objects: NdjsonObject[] }> {
  const objects: NdjsonObject[] = [];
  const take = (line: string, at: number, read: number) => {
    if (line.trim() !== "") objects.push({ value: JSON.parse(line), at, read });
  };
  const result = await readLines(source, options, take);
  take(result.rest, performance.now(), result.reads);
  return { objects, reads: result.reads, error: result.error };
}
