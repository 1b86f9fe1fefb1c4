// The /internal/status* answers as Olla sends them, for dashboards that poll every second or two: a weak
// ETag over what an operator would notice changing (not the clock), 304 when the client has it already,
// gzip when the client takes it.

/** Fields that change with every answer or probe (the clock, `created` of a model list entry, which is
 * "now", probe latencies and times): left out of the ETag, so it moves when the fleet does (a status,
 * a failure count, traffic, models), not every second. */
const VOLATILE_FIELDS = new Set([
  "timestamp",
  "uptime_seconds",
  "created",
  "last_latency_ms",
  "latency_ms",
  "last_check_at",
  "next_check_at",
  // Olla's names for the same, and times relative to now ("2s ago", "in 3s", "1h 2m").
  "health_check_at",
  "response_time",
  "health_check",
  "next_check",
  "last_model_sync",
  "uptime",
]);

/** Relative strings under a name that also holds a stable object (/internal/status/endpoints' last probe). */
const VOLATILE_STRINGS = new Set(["last_check"]);

/** If-None-Match headers longer than this are ignored (as Olla does): no work for a junk header. */
const MAX_IF_NONE_MATCH = 1024;

/** Smaller bodies are not worth compressing. */
const GZIP_MIN_BYTES = 256;

const HEADERS = { "cache-control": "private, no-cache", vary: "Accept-Encoding" };

export function etagOf(body: unknown): string {
  const stable = JSON.stringify(body, (key, value) =>
    VOLATILE_FIELDS.has(key) || (typeof value === "string" && VOLATILE_STRINGS.has(key)) ? undefined : value,
  );
  return `W/"${Bun.hash(stable).toString(36)}"`;
}

/** Whether If-None-Match names `etag` (weak comparison; `*` matches anything). */
function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null || ifNoneMatch.length > MAX_IF_NONE_MATCH) return false;
  const opaque = etag.slice(2);
  return ifNoneMatch.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || (tag.startsWith("W/") ? tag.slice(2) : tag) === opaque;
  });
}

/** Takes gzip: listed in Accept-Encoding with a q above 0. */
function acceptsGzip(acceptEncoding: string | null): boolean {
  if (acceptEncoding === null) return false;
  return acceptEncoding.split(",").some((part) => {
    const [coding, ...params] = part.trim().split(";");
    if (coding?.trim().toLowerCase() !== "gzip") return false;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

export function conditionalJson(request: Request, body: unknown): Response {
  const etag = etagOf(body);
  if (matches(request.headers.get("if-none-match"), etag)) {
    return new Response(null, { status: 304, headers: { ...HEADERS, etag } });
  }
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { ...HEADERS, etag, "content-type": "application/json" };
  if (text.length > GZIP_MIN_BYTES && acceptsGzip(request.headers.get("accept-encoding"))) {
    headers["content-encoding"] = "gzip";
    return new Response(Bun.gzipSync(text), { headers });
  }
  return new Response(text, { headers });
}
