// Reads a request body once (within the size limit, before any upstream sees a byte) and finds the
// top-level `model` and `stream` without parsing the whole JSON: a 10 MB prompt costs a few memchr's.
// Large bodies with a Content-Length are streamed on to the endpoint as they arrive (kept for replay).

import { type BodyWaiter, unwatchBody, watchBody } from "./body-deadlines.ts";
import type { StreamingBody } from "./upstream/index.ts";

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body is larger than the ${limit} byte limit`);
  }
}

/** The client did not finish sending its body within server.read_timeout. */
export class BodyTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the request body did not arrive within ${Math.round(timeoutMs)} ms`);
  }
}

/** One read raced against a body deadline (on the shared list: no timer of its own). */
class DeadlineRead implements BodyWaiter {
  prevWaiter: BodyWaiter | null = null;
  nextWaiter: BodyWaiter | null = null;

  constructor(
    readonly endsAt: number,
    private readonly timeoutMs: number,
    private readonly reject: (error: unknown) => void,
  ) {}

  expire(): void {
    this.reject(new BodyTimeoutError(this.timeoutMs));
  }
}

/** `read`, or BodyTimeoutError(timeoutMs) once `endsAt` (a performance.now() time) has passed
 * (timeoutMs 0: no deadline). A read that loses settles later (when the socket closes) into a promise
 * already settled: no unhandled error. */
function beforeDeadline<T>(read: Promise<T>, endsAt: number, timeoutMs: number): Promise<T> {
  if (timeoutMs <= 0) return read;
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const waiter = new DeadlineRead(endsAt, timeoutMs, reject);
  watchBody(waiter);
  read.then(
    (value) => {
      unwatchBody(waiter);
      resolve(value);
    },
    (error: unknown) => {
      unwatchBody(waiter);
      reject(error);
    },
  );
  return promise;
}

/** Stops a body reader whose deadline passed, so its socket is not read any further. */
function cancelOnTimeout(reader: { cancel(): Promise<void> }, error: unknown): void {
  if (error instanceof BodyTimeoutError) void reader.cancel().catch(() => {});
}

/** The whole body, or null when there is none; throws BodyTooLargeError past `limit` (0 = none) and
 * BodyTimeoutError when it has not all arrived within `timeoutMs` of the call (0 = no deadline). */
export async function readBody(request: Request, limit: number, timeoutMs = 0): Promise<Uint8Array | null> {
  // Decided from the headers: reading `request.body` would make Bun build a ReadableStream, and
  // arrayBuffer() would then read through it (slower, and the stream lives as long as the request).
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared === 0) return null;
  if (limit > 0 && declared > limit) {
    await request.body?.cancel().catch(() => {});
    throw new BodyTooLargeError(limit);
  }
  const endsAt = performance.now() + timeoutMs;
  if (!Number.isNaN(declared)) {
    return await beforeDeadline(request.bytes(), endsAt, timeoutMs);
  }
  // No length: a chunked body, or none at all.
  if (!request.body) return null;
  // Chunked: count as it arrives, so an endless body is cut at the limit.
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await beforeDeadline(reader.read(), endsAt, timeoutMs);
      if (done) break;
      size += value.byteLength;
      if (limit > 0 && size > limit) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(limit);
      }
      parts.push(value);
    }
  } catch (error) {
    cancelOnTimeout(reader, error);
    throw error;
  }
  if (parts.length === 1) return parts[0] as Uint8Array;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return body;
}

export interface BodyFacts {
  /** The top-level "model" string, as given. */
  model?: string;
  /** Byte range of the model's JSON string (quotes included), for rewriting it. */
  modelAt?: [start: number, end: number];
  /** The top-level "stream" flag. */
  stream?: boolean;
  /** "model" is present but not a string. */
  modelNotString?: boolean;
  /** The body looked like JSON but its structure is broken. */
  malformed?: boolean;
  /** Where the conversation's raw JSON lies: the top-level "messages" array, else "prompt" (for sticky
   * sessions' prefix_hash; looked for only when asked). The end is where the scan stopped when the
   * value never closes (a streamed body's prefix). */
  conversationStart?: number;
  conversationEnd?: number;
  /** The conversation is "messages" (which wins over "prompt", wherever each stands). */
  conversationIsMessages?: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Index just past the string that starts at `start` (a quote), or -1 when it never closes. */
function skipString(bytes: Uint8Array, start: number): number {
  let at = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, at);
    if (quote < 0) return -1;
    let slashes = 0;
    for (let back = quote - 1; back > start && bytes[back] === BACKSLASH; back--) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

const decoder = new TextDecoder();
const MODEL_KEY = new TextEncoder().encode("model");
const STREAM_KEY = new TextEncoder().encode("stream");
const MESSAGES_KEY = new TextEncoder().encode("messages");
const PROMPT_KEY = new TextEncoder().encode("prompt");

function keyIs(bytes: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (bytes[start + i] !== key[i]) return false;
  return true;
}

const malformed = (facts: BodyFacts): BodyFacts => ({ ...facts, malformed: true });

const TRUE = new TextEncoder().encode("true");
const FALSE = new TextEncoder().encode("false");
const NULL = new TextEncoder().encode("null");

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** Index just past the bare value (true, false, null or a number) at `at`, or -1 when there is none.
 * Byte by byte: no string is made, this runs for every top-level number and flag. */
function skipBare(bytes: Uint8Array, at: number): number {
  let end = -1;
  if (keyIs(bytes, at, at + 4, TRUE) || keyIs(bytes, at, at + 4, NULL)) end = at + 4;
  else if (keyIs(bytes, at, at + 5, FALSE)) end = at + 5;
  else {
    end = at;
    if (bytes[end] === 0x2d) end++;
    if (bytes[end] === 0x30) end++;
    else if (isDigit(bytes[end])) while (isDigit(bytes[end])) end++;
    else return -1;
    if (bytes[end] === 0x2e) {
      if (!isDigit(bytes[++end])) return -1;
      while (isDigit(bytes[end])) end++;
    }
    if (bytes[end] === 0x65 || bytes[end] === 0x45) {
      end++;
      if (bytes[end] === 0x2b || bytes[end] === 0x2d) end++;
      if (!isDigit(bytes[end])) return -1;
      while (isDigit(bytes[end])) end++;
    }
  }
  // "trueish" or "07" are not values.
  const next = bytes[end];
  return (next !== undefined && next >= 0x61 && next <= 0x7a) || isDigit(next) ? -1 : end;
}

/** Index just past the array or object that starts at `start`, or -1 when it never closes. Inside, only
 * strings and brackets are followed: the endpoint judges the rest. */
function skipNested(bytes: Uint8Array, start: number): number {
  let depth = 0;
  for (let at = start; at < bytes.length; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) {
      const end = skipString(bytes, at);
      if (end < 0) return -1;
      at = end - 1;
    } else if (byte === 0x7b || byte === 0x5b) depth++;
    else if ((byte === 0x7d || byte === 0x5d) && --depth === 0) return at + 1;
  }
  return -1;
}

/** An array with nothing in it: `[]`, spaces allowed. */
function isEmptyArray(bytes: Uint8Array, start: number, end: number): boolean {
  if (bytes[start] !== 0x5b) return false;
  let at = start + 1;
  while (isSpace(bytes[at])) at++;
  return at === end - 1 && bytes[at] === 0x5d;
}

/** Notes where "messages" (not empty) or "prompt" lies; `end` is -1 for a value that never closes. */
function noteConversation(
  facts: BodyFacts,
  bytes: Uint8Array,
  start: number,
  end: number,
  isMessages: boolean,
): void {
  if (facts.conversationIsMessages) return;
  const stop = end < 0 ? bytes.length : end;
  if (isMessages && end >= 0 && isEmptyArray(bytes, start, end)) return;
  facts.conversationStart = start;
  facts.conversationEnd = stop;
  facts.conversationIsMessages = isMessages;
}

/** Scans a JSON object's top level for "model" and "stream", and checks that level's structure: keys,
 * colons, commas, bare values, nothing after the closing brace. Nested values are skipped unparsed (their
 * strings found with indexOf), so a 10 MB prompt costs a few memchr's. With `findConversation`, also
 * where "messages" or "prompt" lies (see BodyFacts). */
export function inspectJson(bytes: Uint8Array, findConversation = false): BodyFacts {
  const facts: BodyFacts = {};
  let at = 0;
  while (isSpace(bytes[at])) at++;
  if (at === bytes.length) return facts;
  if (bytes[at] !== 0x7b) return malformed(facts);
  at++;
  while (isSpace(bytes[at])) at++;
  if (bytes[at] === 0x7d) at++;
  else {
    for (;;) {
      if (bytes[at] !== QUOTE) return malformed(facts);
      const keyEnd = skipString(bytes, at);
      if (keyEnd < 0) return malformed(facts);
      // Only two keys matter: compare bytes instead of decoding every key.
      const isModel = keyIs(bytes, at + 1, keyEnd - 1, MODEL_KEY);
      const isStream = !isModel && keyIs(bytes, at + 1, keyEnd - 1, STREAM_KEY);
      const isMessages = findConversation && keyIs(bytes, at + 1, keyEnd - 1, MESSAGES_KEY);
      const isPrompt = findConversation && !isMessages && keyIs(bytes, at + 1, keyEnd - 1, PROMPT_KEY);
      at = keyEnd;
      while (isSpace(bytes[at])) at++;
      if (bytes[at] !== 0x3a) return malformed(facts);
      at++;
      while (isSpace(bytes[at])) at++;
      const first = bytes[at];
      if (first === QUOTE) {
        const end = skipString(bytes, at);
        if (isMessages || isPrompt) noteConversation(facts, bytes, at, end, isMessages);
        if (end < 0) return malformed(facts);
        if (isModel) {
          try {
            facts.model = JSON.parse(decoder.decode(bytes.subarray(at, end)));
            facts.modelAt = [at, end];
          } catch {
            return malformed(facts);
          }
        }
        at = end;
      } else if (first === 0x7b || first === 0x5b) {
        if (isModel) facts.modelNotString = true;
        const start = at;
        at = skipNested(bytes, at);
        if (isMessages || isPrompt) noteConversation(facts, bytes, start, at, isMessages);
        if (at < 0) return malformed(facts);
      } else {
        const end = skipBare(bytes, at);
        if (end < 0) return malformed(facts);
        if (isStream) facts.stream = first === 0x74;
        else if (isModel) facts.modelNotString = true;
        at = end;
      }
      while (isSpace(bytes[at])) at++;
      if (bytes[at] === 0x7d) break;
      if (bytes[at] !== 0x2c) return malformed(facts);
      at++;
      while (isSpace(bytes[at])) at++;
    }
    at++;
  }
  while (isSpace(bytes[at])) at++;
  return at === bytes.length ? facts : malformed(facts);
}

/** Facts about a request body; only JSON bodies are inspected. A body sent as another type that starts
 * like a JSON object is read too: `curl -d '{"model":...}'` says form-urlencoded, and Ollama and most
 * servers parse it as JSON all the same. Such a body is not refused as malformed: it never claimed JSON. */
export function inspectBody(
  body: Uint8Array | null,
  contentType: string | null,
  findConversation = false,
): BodyFacts {
  if (!body || body.byteLength === 0) return {};
  if (contentType?.includes("json")) return inspectJson(body, findConversation);
  if (contentType === null) return body[0] === 0x7b ? inspectJson(body, findConversation) : {};
  let at = 0;
  while (isSpace(body[at])) at++;
  if (body[at] !== 0x7b) return {};
  const facts = inspectJson(body, findConversation);
  return facts.malformed ? {} : facts;
}

/** Bodies at least this large (with a Content-Length) go on to the endpoint while still arriving. */
export const STREAM_BODY_MIN = 1024 * 1024;

/** Reads the client's body in the background into a StreamingBody; every chunk is kept for replay.
 * Not complete within `timeoutMs` (0 = no deadline): the body fails with BodyTimeoutError. */
export function streamRequestBody(request: Request, length: number, timeoutMs = 0): StreamingBody {
  const chunks: Uint8Array[] = [];
  const listeners = new Set<() => void>();
  let received = 0;
  let complete = length === 0;
  let error: Error | undefined;
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  const body: StreamingBody = {
    length,
    chunks,
    get complete() {
      return complete;
    },
    get error() {
      return error;
    },
    watch(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const reader = (request.body as ReadableStream<Uint8Array>).getReader();
  const endsAt = performance.now() + timeoutMs;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await beforeDeadline(reader.read(), endsAt, timeoutMs);
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        notify();
      }
      if (received !== length) throw new Error(`body ended after ${received} of ${length} bytes`);
      complete = true;
    } catch (cause) {
      cancelOnTimeout(reader, cause);
      error = cause instanceof Error ? cause : new Error(String(cause));
    }
    notify();
  })();
  return body;
}

/** The first `bytes` of a streaming body (fewer if it is shorter), once they have arrived. */
export function bodyPrefix(body: StreamingBody, bytes: number): Promise<Uint8Array> {
  const have = () => body.chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  return new Promise((resolve, reject) => {
    const check = () => {
      if (body.error) {
        unwatch();
        reject(body.error);
        return;
      }
      if (!body.complete && have() < bytes) return;
      unwatch();
      const prefix = new Uint8Array(Math.min(bytes, have()));
      let offset = 0;
      for (const chunk of body.chunks) {
        if (offset >= prefix.byteLength) break;
        const part = chunk.subarray(0, prefix.byteLength - offset);
        prefix.set(part, offset);
        offset += part.byteLength;
      }
      resolve(prefix);
    };
    const unwatch = body.watch(check);
    check();
  });
}

/** The body with its top-level model replaced (the rest byte for byte as the client sent it); as it is
 * when there is no other name, or no model string (`at`, from inspectBody) to replace. */
export function rewriteModel(
  body: Uint8Array,
  at: [number, number] | undefined,
  model: string | undefined,
): Uint8Array {
  if (at === undefined || model === undefined) return body;
  const replacement = new TextEncoder().encode(JSON.stringify(model));
  const out = new Uint8Array(body.byteLength - (at[1] - at[0]) + replacement.byteLength);
  out.set(body.subarray(0, at[0]), 0);
  out.set(replacement, at[0]);
  out.set(body.subarray(at[1]), at[0] + replacement.byteLength);
  return out;
}

/** A streaming body, whole, once every byte has arrived. */
export async function wholeBody(body: StreamingBody): Promise<Uint8Array> {
  return bodyPrefix(body, body.length);
}
