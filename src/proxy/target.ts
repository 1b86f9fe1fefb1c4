// Where a proxied request goes: the path after the route prefix, cleaned so `..` cannot climb out,
// joined onto the endpoint's URL (replacing its path, or under it with preserve_path).

import type { Endpoint } from "../endpoints/index.ts";

/** Dot segments, encoded dots or empty segments: only then does a path need cleaning. */
const NEEDS_CLEANING = /\/\.|\/\/|%2e/i;

/** Resolves `.`/`..` segments (also %2e-encoded) and duplicate slashes; keeps a trailing slash. */
export function cleanPath(raw: string): string {
  // Nearly every request path is already clean; skip the split-and-join for those.
  if (raw.startsWith("/") && !NEEDS_CLEANING.test(raw)) return raw;
  const decoded = raw.replace(/%2e/gi, ".");
  const segments: string[] = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = decoded.endsWith("/") && segments.length > 0 ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

/** The upstream URL for a cleaned path and the client's query string ("" or "?a=b"). */
export function upstreamUrl(endpoint: Endpoint, path: string, search: string): URL {
  const base = endpoint.preservePath ? endpoint.url.pathname.replace(/\/+$/, "") : "";
  // One parse: the path is clean and the search came from a parsed URL, so nothing here can move
  // the authority.
  return new URL(`${endpoint.url.origin}${base}${path}${search}`);
}
