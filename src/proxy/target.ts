// Where a proxied request goes: the path after the route prefix, cleaned so `..` cannot climb out,
// asked of the endpoint in place of its URL's path (or under that path with preserve_path).

import type { Endpoint } from "../endpoints/index.ts";

/** Dot segments, encoded dots or empty segments: only then does a path need cleaning. */
const NEEDS_CLEANING = /\/\.|\/\/|%2e/i;

/** A `..` next to an encoded slash or backslash (`..%2f`): a server that decodes those would climb. */
const ENCODED_CLIMB = /(?:^|%2f|%5c)\.\.(?:%2f|%5c|$)/i;

/** Resolves `.`/`..` segments (also %2e-encoded) and duplicate slashes; keeps a trailing slash. A
 * segment with `..` beside an encoded slash is taken apart at its encoded slashes too; other encoded
 * slashes (a Hugging Face id in a path) stay as they are. */
export function cleanPath(raw: string): string {
  // Nearly every request path is already clean; skip the split-and-join for those.
  if (raw.startsWith("/") && !NEEDS_CLEANING.test(raw)) return raw;
  const decoded = raw.replace(/%2e/gi, ".");
  const segments: string[] = [];
  for (const segment of decoded.split("/")) {
    for (const part of ENCODED_CLIMB.test(segment) ? segment.split(/%2f|%5c/i) : [segment]) {
      if (part === "" || part === ".") continue;
      if (part === "..") segments.pop();
      else segments.push(part);
    }
  }
  const trailing = decoded.endsWith("/") && segments.length > 0 ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

/** The path and query an endpoint is asked for (UpstreamRequest.path, sent with endpoint.url): a cleaned
 * path and the client's query string ("" or "?a=b"). */
export function upstreamPath(endpoint: Endpoint, path: string, search: string): string {
  // No query: the path itself, not a concatenation that a waiting request would keep as two pieces.
  if (!endpoint.preservePath) return search === "" ? path : path + search;
  return `${endpoint.url.pathname.replace(/\/+$/, "")}${path}${search}`;
}
