// The path and query of a request, cut out of the URL Bun gives (request.url) instead of parsed again:
// Bun has already resolved dot segments (also %2e-encoded ones) and percent-encoded what needs it.

/** Where the path starts in a request.url. Bun gives "http://host/path?query", or only "/path?query"
 * when the Host header is missing (HTTP/1.0) or not a host at all, a form `new URL()` rejects. */
function pathStart(url: string): number {
  if (url.charCodeAt(0) === 47) return 0;
  // The authority ends at the first "/", "?" or "#" after "//".
  let at = url.indexOf("//") + 2;
  for (; at < url.length; at++) {
    const code = url.charCodeAt(at);
    if (code === 47 || code === 63 || code === 35) break;
  }
  return at;
}

/** As URL's pathname and search: "/" for an empty path, "" for no query or a bare "?", no fragment. */
export function requestTarget(url: string): { path: string; search: string } {
  const start = pathStart(url);
  let end = url.indexOf("#", start);
  if (end < 0) end = url.length;
  let query = url.indexOf("?", start);
  if (query < 0 || query > end) query = end;
  return {
    path: query === start ? "/" : url.slice(start, query),
    search: end - query > 1 ? url.slice(query, end) : "",
  };
}
