// A request's sticky-session key: the first of the configured sources that gives one, scoped to the
// request's model (one client talking to two models keeps two pins). Values are hashed (FNV-1a 64), so
// a credential is never stored and a long header costs no more memory than a short one.

import type { Config } from "../config/index.ts";
import { Fnv64 } from "./fnv64.ts";

/** session_header, prefix_hash, auth_header or ip: the schema's list (a type only: the serving process
 * never loads the schema). */
export type KeySource = Config["proxy"]["sticky_sessions"]["key_sources"][number];

/** The request header a client names its session with. */
export const SESSION_HEADER = "x-olla-session-id";

/** Each source's first character in a key: which source made a key is read back from it. */
const TAGS: Record<KeySource, string> = {
  session_header: "s",
  prefix_hash: "p",
  auth_header: "a",
  ip: "i",
};
const SOURCE_OF_TAG = Object.fromEntries(
  Object.entries(TAGS).map(([source, tag]) => [tag, source as KeySource]),
) as Record<string, KeySource>;

/** The request's headers, as far as keys need them (Headers fits). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** What a request offers to key on; each part is read only when the cascade reaches its source. */
export interface KeyMaterial {
  /** The requested model ("" when none was named). */
  model: string;
  headers: HeaderReader;
  clientIp: string | undefined;
  /** The body as read: whole, or the chunks of one still arriving (those before conversationEnd are in). */
  body: Uint8Array | readonly Uint8Array[] | null;
  /** Where the conversation's raw JSON ("messages", else "prompt") lies in the body (see BodyFacts). */
  conversationStart: number | undefined;
  conversationEnd: number | undefined;
}

export interface StickyKeys {
  /** The key of a request, or undefined when no source gives one. */
  keyOf(material: KeyMaterial): string | undefined;
}

/** The source that made a key (from stickyKeys().keyOf). */
export function keySourceOf(key: string): KeySource {
  return SOURCE_OF_TAG[key[0]!]!;
}

/** Hashes body[start, end) of a body whole or in chunks. */
function hashRange(hash: Fnv64, body: Uint8Array | readonly Uint8Array[], start: number, end: number): void {
  if (body instanceof Uint8Array) {
    hash.bytes(body, start, Math.min(end, body.length));
    return;
  }
  let offset = 0;
  for (const chunk of body) {
    const chunkEnd = offset + chunk.length;
    if (chunkEnd > start)
      hash.bytes(chunk, Math.max(0, start - offset), Math.min(chunk.length, end - offset));
    offset = chunkEnd;
    if (offset >= end) return;
  }
}

export function stickyKeys(sources: readonly KeySource[], prefixHashBytes: number): StickyKeys {
  // One hasher for every request: JavaScript runs one at a time, and a key is made start to end.
  const hash = new Fnv64();
  /** The key: the source's tag, the value's hash (4 UTF-16 units), then the model. */
  const key = (source: KeySource, model: string) => TAGS[source] + hash.units() + model;

  /** The text a source keys on (all but prefix_hash, which hashes body bytes in place). */
  const textOf: Record<
    Exclude<KeySource, "prefix_hash">,
    (material: KeyMaterial) => string | null | undefined
  > = {
    session_header: (material) => material.headers.get(SESSION_HEADER),
    auth_header: (material) => material.headers.get("authorization"),
    ip: (material) => material.clientIp,
  };

  const keyFrom = (source: KeySource, material: KeyMaterial): string | undefined => {
    if (source === "prefix_hash") {
      const { body, conversationStart: start, conversationEnd: end } = material;
      if (body === null || start === undefined || end === undefined || end <= start) return undefined;
      hashRange(hash.reset(), body, start, Math.min(end, start + prefixHashBytes));
    } else {
      const text = textOf[source](material);
      if (!text) return undefined;
      hash.reset().text(text);
    }
    return key(source, material.model);
  };

  return {
    keyOf(material) {
      for (const source of sources) {
        const found = keyFrom(source, material);
        if (found !== undefined) return found;
      }
      return undefined;
    },
  };
}
