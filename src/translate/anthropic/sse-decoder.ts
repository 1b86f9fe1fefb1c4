// Incremental Server-Sent Events reader: bytes in any chunking (frames and UTF-8 characters split
// across reads, LF, CRLF or CR line ends) → `data:` payloads, each as soon as its line is complete.
// Each data line is handed on by itself rather than at the blank line that ends the event: OpenAI-style
// servers send one JSON per data line, some forget the blank line, and waiting for it would delay output.

export interface SseData {
  /** The `event:` name in force for this data line, if the server gave one. */
  event?: string;
  data: string;
}

export interface SseDecoder {
  push(bytes: Uint8Array): SseData[];
  /** The input ended: a last line without its line end still counts. */
  end(): SseData[];
}

export class SseLineTooLongError extends Error {
  constructor(readonly limit: number) {
    super(`upstream SSE line longer than ${limit} characters`);
  }
}

const LF = 10;
const CR = 13;

/** `maxLine` bounds the memory one unterminated line may take (a whole tool call can be one line). */
export function createSseDecoder(maxLine = 16 * 1024 * 1024): SseDecoder {
  const decoder = new TextDecoder();
  let partial = "";
  let skipLf = false; // the previous chunk ended in CR: a LF opening this one belongs to it
  let event: string | undefined;

  function line(text: string, out: SseData[]): void {
    if (text === "") {
      event = undefined; // end of event
      return;
    }
    if (text.charCodeAt(0) === 58 /* : */) return; // comment / keep-alive
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (name === "data") out.push(event === undefined ? { data: value } : { event, data: value });
    else if (name === "event") event = value;
  }

  function feed(text: string): SseData[] {
    const out: SseData[] = [];
    let start = 0;
    if (skipLf && text.charCodeAt(0) === LF) start = 1;
    skipLf = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const piece = text.slice(start, i);
      line(partial ? partial + piece : piece, out);
      partial = "";
      if (c === CR) {
        if (i + 1 === text.length) skipLf = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    if (start < text.length) {
      partial += text.slice(start);
      if (partial.length > maxLine) throw new SseLineTooLongError(maxLine);
    }
    return out;
  }

  return {
    push: (bytes) => feed(decoder.decode(bytes, { stream: true })),
    end() {
      const out = feed(decoder.decode());
      if (partial) line(partial, out);
      partial = "";
      return out;
    },
  };
}
