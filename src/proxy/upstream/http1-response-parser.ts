// Incremental HTTP/1.1 response parser for the pooled client: status line and headers, then a body framed
// by Content-Length, chunked encoding or connection close. Pull-style (one event per call) so the caller
// acts between events without re-entrancy, and every framing element may split across TCP reads.

import { UpstreamError } from "./types.ts";

/** The data so far holds no further event; feed the next read. */
export const NEED_MORE = 0;
/** `parser.head` is set (interim 1xx responses are skipped, never reported). */
export const HEAD = 1;
/** `parser.chunk` holds body bytes: a view into the data passed in, valid as long as that buffer is. */
export const BODY = 2;
/** The response is complete; `parser.offset` is the first byte after it. */
export const DONE = 3;
export type ParseEvent = typeof NEED_MORE | typeof HEAD | typeof BODY | typeof DONE;

export type BodyMode = "none" | "length" | "chunked" | "close";

export interface ResponseHead {
  status: number;
  statusText: string;
  /** Name/value pairs in wire order, names lowercased; repeated names (Set-Cookie) stay separate. */
  headers: [string, string][];
  bodyMode: BodyMode;
  /** -1 unless bodyMode is "length". */
  contentLength: number;
  /** The connection may carry another request once this response is complete. */
  keepAlive: boolean;
}

/** Parser state: a plain object driven by parseNext / parseEof. */
export interface ResponseParser {
  /** Where the last event left off in the data passed to parseNext. */
  offset: number;
  chunk: Uint8Array | null;
  head: ResponseHead | null;
  /** Body bytes still expected in length mode (after HEAD: the whole Content-Length). */
  remaining: number;
  state: number;
  noBody: boolean;
  headBuf: Buffer | null;
  headLen: number;
  chunkSize: number;
  sizeDigits: number;
  inExtension: boolean;
  lineLen: number;
  trailerBytes: number;
}

// Limits well above what inference servers send; they bound memory against a broken upstream.
export const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const MAX_TRAILER_BYTES = 64 * 1024;
// 13 hex digits stay below 2^53, so the size stays an exact integer.
const MAX_SIZE_DIGITS = 13;

const S_HEAD = 0;
const S_LENGTH = 1;
const S_SIZE = 2;
const S_SIZE_LF = 3;
const S_DATA = 4;
const S_DATA_CR = 5;
const S_DATA_LF = 6;
const S_TRAILER = 7;
const S_TRAILER_LF = 8;
const S_TRAILER_END_LF = 9;
const S_CLOSE = 10;
const S_DONE = 11;

const CR = 13;
const LF = 10;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^[0-9]+$/;

export function createResponseParser(noBody = false): ResponseParser {
  return {
    offset: 0,
    chunk: null,
    head: null,
    remaining: 0,
    state: S_HEAD,
    noBody,
    headBuf: null,
    headLen: 0,
    chunkSize: 0,
    sizeDigits: 0,
    inExtension: false,
    lineLen: 0,
    trailerBytes: 0,
  };
}

/** Prepare for the next response on the same connection. `noBody` is set for HEAD requests. */
export function resetResponseParser(p: ResponseParser, noBody: boolean): void {
  p.offset = 0;
  p.chunk = null;
  p.head = null;
  p.remaining = 0;
  p.state = S_HEAD;
  p.noBody = noBody;
  p.headLen = 0;
  p.chunkSize = 0;
  p.sizeDigits = 0;
  p.inExtension = false;
  p.lineLen = 0;
  p.trailerBytes = 0;
}

/** True once a complete response was parsed. */
export function parserDone(p: ResponseParser): boolean {
  return p.state === S_DONE;
}

/** True while the response head is still incomplete (nothing reported yet). */
export function parserInHead(p: ResponseParser): boolean {
  return p.state === S_HEAD;
}

function protocolError(message: string): UpstreamError {
  // A parse error means response bytes arrived, so the request may have been processed.
  return new UpstreamError("protocol", `upstream sent an invalid response: ${message}`, false);
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Parse from `data[offset]` up to the next event. Throws UpstreamError(kind "protocol") on malformed input.
 * Call again with `p.offset` after HEAD and BODY; stop after NEED_MORE (next read) or DONE.
 */
export function parseNext(p: ResponseParser, data: Uint8Array, offset: number): ParseEvent {
  p.chunk = null;
  for (;;) {
    switch (p.state) {
      case S_HEAD: {
        if (!readHead(p, data, offset)) return NEED_MORE;
        const head = p.head!;
        if (head.status < 200) {
          // Interim response (100 Continue, 103 Early Hints): drop it, the final one follows.
          offset = p.offset;
          p.head = null;
          continue;
        }
        return HEAD;
      }
      case S_LENGTH: {
        const avail = data.length - offset;
        if (avail <= 0) {
          p.offset = offset;
          return NEED_MORE;
        }
        const n = Math.min(avail, p.remaining);
        p.chunk = data.subarray(offset, offset + n);
        p.offset = offset + n;
        p.remaining -= n;
        if (p.remaining === 0) p.state = S_DONE;
        return BODY;
      }
      case S_CLOSE: {
        if (offset >= data.length) {
          p.offset = offset;
          return NEED_MORE;
        }
        p.chunk = data.subarray(offset);
        p.offset = data.length;
        return BODY;
      }
      case S_DONE:
        p.offset = offset;
        return DONE;
      default:
        return parseChunked(p, data, offset);
    }
  }
}

/**
 * The upstream closed its side. Returns true when that completes the response (a body delimited by
 * connection close); false when the response is truncated or never started.
 */
export function parseEof(p: ResponseParser): boolean {
  if (p.state === S_CLOSE) {
    p.state = S_DONE;
    return true;
  }
  return p.state === S_DONE;
}

function readHead(p: ResponseParser, input: Uint8Array, offset: number): boolean {
  const data = asBuffer(input);
  if (p.headLen === 0) {
    // Common case: the whole head sits in one read; parse it in place without copying.
    const end = data.indexOf("\r\n\r\n", offset, "latin1");
    if (end !== -1) {
      if (end - offset > MAX_HEAD_BYTES) throw protocolError("response head too large");
      parseHead(p, data.toString("latin1", offset, end));
      p.offset = end + 4;
      return true;
    }
    if (data.length - offset > MAX_HEAD_BYTES) throw protocolError("response head too large");
    appendHead(p, data, offset, data.length);
    p.offset = data.length;
    return false;
  }
  // Continue a head split across reads: append, then look for the blank line from just before the seam.
  const seam = p.headLen;
  const take = Math.min(data.length - offset, MAX_HEAD_BYTES + 4 - seam);
  appendHead(p, data, offset, offset + take);
  const buf = p.headBuf!;
  const end = buf.subarray(0, p.headLen).indexOf("\r\n\r\n", Math.max(0, seam - 3), "latin1");
  if (end === -1) {
    if (p.headLen >= MAX_HEAD_BYTES + 4) throw protocolError("response head too large");
    p.offset = offset + take;
    return false;
  }
  parseHead(p, buf.toString("latin1", 0, end));
  p.offset = offset + (end + 4 - seam);
  p.headLen = 0;
  return true;
}

function appendHead(p: ResponseParser, data: Buffer, start: number, end: number): void {
  const n = end - start;
  if (n <= 0) return;
  const need = p.headLen + n;
  if (p.headBuf === null || p.headBuf.length < need) {
    // Doubling keeps a head fed one byte per read linear, not quadratic.
    const grown = Buffer.allocUnsafe(Math.max(need, (p.headBuf?.length ?? 256) * 2));
    if (p.headBuf !== null) p.headBuf.copy(grown, 0, 0, p.headLen);
    p.headBuf = grown;
  }
  data.copy(p.headBuf, p.headLen, start, end);
  p.headLen = need;
}

/** Names nearly every response carries, by length: a line starting with one (in its usual spellings)
 * gets the shared lowercase string, with no substring or toLowerCase copy per response. */
const COMMON_NAMES = new Map<number, [lower: string, titled: string][]>();
const NO_COMMON_NAMES: [string, string][] = [];
for (const name of [
  "content-type",
  "content-length",
  "date",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "server",
  "cache-control",
  "vary",
  "x-request-id",
  "access-control-allow-origin",
]) {
  const titled = name.replace(
    /(^|-)([a-z])/g,
    (_, dash: string, letter: string) => dash + letter.toUpperCase(),
  );
  const sameLength = COMMON_NAMES.get(name.length) ?? [];
  sameLength.push([name, titled]);
  COMMON_NAMES.set(name.length, sameLength);
}

/** The header name before `colon` in `line`, lowercased (HTTP names are case-insensitive; Headers
 * lowercases them anyway), or undefined when it is not a token. */
function headerName(line: string, colon: number): string | undefined {
  for (const [lower, titled] of COMMON_NAMES.get(colon) ?? NO_COMMON_NAMES) {
    if (line.startsWith(lower) || line.startsWith(titled)) return lower;
  }
  const name = line.slice(0, colon);
  return TOKEN.test(name) ? name.toLowerCase() : undefined;
}

/** A CR or LF that is not part of a CRLF. */
const BARE_CR_OR_LF = /\r(?!\n)|(?<!\r)\n/;

function parseHead(p: ResponseParser, text: string): void {
  // One scan of the head instead of two per line.
  if (BARE_CR_OR_LF.test(text)) throw protocolError("bare CR or LF in head");
  const lines = text.split("\r\n");
  const statusLine = lines[0]!;
  // "HTTP/1.x SSS[ reason]"
  if (
    statusLine.length < 12 ||
    !statusLine.startsWith("HTTP/1.") ||
    (statusLine[7] !== "1" && statusLine[7] !== "0") ||
    statusLine[8] !== " " ||
    (statusLine.length > 12 && statusLine[12] !== " ")
  ) {
    throw protocolError(`bad status line ${JSON.stringify(statusLine.slice(0, 64))}`);
  }
  const statusText = statusLine.slice(9, 12);
  if (!DIGITS.test(statusText)) throw protocolError("bad status code");
  const status = Number(statusText);
  if (status < 100 || status > 599) throw protocolError(`status ${status} out of range`);
  if (status === 101) throw protocolError("unexpected 101 Switching Protocols");
  const http10 = statusLine[7] === "0";

  const headers: [string, string][] = [];
  let contentLength = -1;
  let transferEncoding: string[] | null = null;
  let connClose = false;
  let connKeepAlive = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) throw protocolError("obsolete header folding");
    const colon = line.indexOf(":");
    if (colon <= 0) throw protocolError("header line without name");
    const lower = headerName(line, colon);
    if (lower === undefined)
      throw protocolError(`bad header name ${JSON.stringify(line.slice(0, Math.min(colon, 64)))}`);
    const value = trimOws(line.slice(colon + 1));
    headers.push([lower, value]);
    // Only three names change framing.
    if (lower === "content-length") {
      for (const part of value.split(",")) {
        const v = trimOws(part);
        if (!DIGITS.test(v) || v.length > 15) throw protocolError("bad Content-Length");
        const n = Number(v);
        if (contentLength !== -1 && n !== contentLength) throw protocolError("conflicting Content-Length");
        contentLength = n;
      }
    } else if (lower === "transfer-encoding") {
      transferEncoding ??= [];
      for (const part of value.split(",")) transferEncoding.push(trimOws(part).toLowerCase());
    } else if (lower === "connection") {
      for (const part of value.split(",")) {
        const token = trimOws(part).toLowerCase();
        if (token === "close") connClose = true;
        else if (token === "keep-alive") connKeepAlive = true;
      }
    }
  }

  let bodyMode: BodyMode;
  if (transferEncoding !== null) {
    // Both headers at once is the classic request-smuggling shape: refuse rather than guess.
    if (contentLength !== -1) throw protocolError("both Content-Length and Transfer-Encoding");
    if (transferEncoding.length !== 1 || transferEncoding[0] !== "chunked") {
      // Other codings would reach the client still encoded with the header stripped as hop-by-hop.
      throw protocolError(`unsupported Transfer-Encoding ${JSON.stringify(transferEncoding.join(", "))}`);
    }
  }
  if (p.noBody || status < 200 || status === 204 || status === 304) bodyMode = "none";
  else if (transferEncoding !== null) bodyMode = "chunked";
  else if (contentLength === 0) bodyMode = "none";
  else if (contentLength > 0) bodyMode = "length";
  else bodyMode = "close";

  // An HTTP/1.0 response with Transfer-Encoding has faulty framing by definition: read it, never reuse.
  const keepAlive =
    bodyMode !== "close" && !connClose && (http10 ? connKeepAlive && transferEncoding === null : true);

  p.head = {
    status,
    statusText: statusLine.length > 13 ? statusLine.slice(13) : "",
    headers,
    bodyMode,
    contentLength: bodyMode === "length" ? contentLength : -1,
    keepAlive,
  };
  if (status < 200) return; // the caller skips interim responses; state stays S_HEAD
  switch (bodyMode) {
    case "none":
      p.state = S_DONE;
      break;
    case "length":
      p.state = S_LENGTH;
      p.remaining = contentLength;
      break;
    case "chunked":
      p.state = S_SIZE;
      p.chunkSize = 0;
      p.sizeDigits = 0;
      p.inExtension = false;
      p.lineLen = 0;
      break;
    case "close":
      p.state = S_CLOSE;
      break;
  }
}

function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && (s.charCodeAt(start) === 32 || s.charCodeAt(start) === 9)) start++;
  while (end > start && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

function hexValue(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}

// Chunked framing, byte by byte outside chunk data so any split point resumes correctly.
function parseChunked(p: ResponseParser, data: Uint8Array, offset: number): ParseEvent {
  const len = data.length;
  let off = offset;
  while (off < len) {
    switch (p.state) {
      case S_SIZE: {
        const b = data[off++]!;
        if (++p.lineLen > MAX_CHUNK_LINE) throw protocolError("chunk size line too long");
        if (p.inExtension) {
          // Extensions are ignored; only the line end matters.
          if (b === CR) p.state = S_SIZE_LF;
          else if (b === LF) throw protocolError("bare LF in chunk size line");
          break;
        }
        const v = hexValue(b);
        if (v >= 0) {
          if (++p.sizeDigits > MAX_SIZE_DIGITS) throw protocolError("chunk size too large");
          p.chunkSize = p.chunkSize * 16 + v;
        } else if (p.sizeDigits === 0) {
          throw protocolError("missing chunk size");
        } else if (b === CR) {
          p.state = S_SIZE_LF;
        } else if (b === 59 || b === 32 || b === 9) {
          // ';' starts an extension; whitespace before it is tolerated (RFC 9112 BWS).
          p.inExtension = true;
        } else {
          throw protocolError("bad chunk size");
        }
        break;
      }
      case S_SIZE_LF: {
        if (data[off++] !== LF) throw protocolError("chunk size line not ended by CRLF");
        if (p.chunkSize === 0) {
          p.state = S_TRAILER;
          p.lineLen = 0;
          p.trailerBytes = 0;
        } else {
          p.state = S_DATA;
          p.remaining = p.chunkSize;
        }
        p.chunkSize = 0;
        p.sizeDigits = 0;
        p.inExtension = false;
        break;
      }
      case S_DATA: {
        const avail = len - off;
        const n = Math.min(avail, p.remaining);
        p.chunk = data.subarray(off, off + n);
        off += n;
        p.remaining -= n;
        if (p.remaining === 0) p.state = S_DATA_CR;
        p.offset = off;
        return BODY;
      }
      case S_DATA_CR:
        if (data[off++] !== CR) throw protocolError("chunk data not followed by CRLF");
        p.state = S_DATA_LF;
        break;
      case S_DATA_LF:
        if (data[off++] !== LF) throw protocolError("chunk data not followed by CRLF");
        p.state = S_SIZE;
        p.lineLen = 0;
        break;
      case S_TRAILER: {
        // Trailer fields are read and dropped: a Response cannot carry them.
        const b = data[off++]!;
        if (b === CR) p.state = p.lineLen === 0 ? S_TRAILER_END_LF : S_TRAILER_LF;
        else if (b === LF) throw protocolError("bare LF in trailer");
        else p.lineLen++;
        if (++p.trailerBytes > MAX_TRAILER_BYTES) throw protocolError("trailer section too large");
        break;
      }
      case S_TRAILER_LF:
        if (data[off++] !== LF) throw protocolError("trailer line not ended by CRLF");
        p.state = S_TRAILER;
        p.lineLen = 0;
        break;
      case S_TRAILER_END_LF:
        if (data[off++] !== LF) throw protocolError("trailer section not ended by CRLF");
        p.state = S_DONE;
        p.offset = off;
        return DONE;
      default:
        throw new Error(`parser in unexpected state ${p.state}`);
    }
  }
  p.offset = off;
  return NEED_MORE;
}
