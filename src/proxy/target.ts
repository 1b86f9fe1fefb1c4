// Where a proxied request goes: the path after the route prefix, cleaned so `..` cannot climb out,
// joined onto the endpoint's URL (replacing its path, or under it with preserve_path).

import type { Endpoint } from "../endpoints/index.ts";

/** Resolves `.`/`..` segments (also %2e-encoded) and duplicate slashes; keeps a trailing slash. */
export function cleanPath(raw: string): string {
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
  const target = new URL(endpoint.url.origin);
  const base = endpoint.preservePath ? endpoint.url.pathname.replace(/\/+$/, "") : "";
  target.pathname = `${base}${path}`;
  target.search = search;
  return target;
}
