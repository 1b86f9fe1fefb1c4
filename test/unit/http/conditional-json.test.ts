import { describe, expect, test } from "bun:test";
import { conditionalJson, etagOf } from "../../../src/http/conditional-json.ts";

const status = (at: number, state: string) => ({
  timestamp: new Date(at).toISOString(),
  system: { uptime_seconds: at / 1000, status: state },
  endpoints: [
    { name: "a", status: state, last_latency_ms: at % 7, last_check_at: at, next_check_at: at + 5 },
  ],
});

const get = (headers: Record<string, string>) => new Request("http://olla/internal/status", { headers });

describe("conditionalJson", () => {
  test("the ETag ignores the clock and probe timings, and moves with the fleet", () => {
    expect(etagOf(status(1_000, "healthy"))).toBe(etagOf(status(61_000, "healthy")));
    expect(etagOf(status(1_000, "healthy"))).not.toBe(etagOf(status(1_000, "offline")));
  });

  test("Olla's relative times and probe fields do not move it; a last probe's object still does", () => {
    const olla = (at: number, probe: string) => ({
      system: { uptime: `${at}s` },
      endpoints: [
        {
          last_check: `${at} seconds ago`,
          next_check: `in ${at} seconds`,
          health_check: `${at} seconds ago`,
          health_check_at: new Date(at).toISOString(),
          response_time: `${at}ms`,
          last_model_sync: `${at} seconds ago`,
        },
      ],
      probes: [{ last_check: { status: probe } }],
    });
    expect(etagOf(olla(1, "healthy"))).toBe(etagOf(olla(2, "healthy")));
    expect(etagOf(olla(1, "healthy"))).not.toBe(etagOf(olla(1, "offline")));
  });

  test("If-None-Match: weak comparison, lists and *; a junk header over 1 KiB is ignored", () => {
    const etag = etagOf(status(0, "healthy"));
    for (const header of [etag, etag.slice(2), `"nope", ${etag}`, "*"]) {
      expect(conditionalJson(get({ "if-none-match": header }), status(9, "healthy")).status).toBe(304);
    }
    expect(conditionalJson(get({ "if-none-match": 'W/"nope"' }), status(9, "healthy")).status).toBe(200);
    const long = `${"x".repeat(1100)}, ${etag}`;
    expect(conditionalJson(get({ "if-none-match": long }), status(9, "healthy")).status).toBe(200);
  });

  test("gzip only when accepted with q > 0 and the body is worth it", async () => {
    const big = { ...status(0, "healthy"), padding: "x".repeat(400) };
    const coding = (accept: string, body: unknown) =>
      conditionalJson(get({ "accept-encoding": accept }), body).headers.get("content-encoding");
    expect(coding("br, gzip;q=0.5", big)).toBe("gzip");
    expect(coding("gzip;q=0", big)).toBeNull();
    expect(coding("identity", big)).toBeNull();
    expect(coding("gzip", { small: true })).toBeNull();
    const zipped = conditionalJson(get({ "accept-encoding": "gzip" }), big);
    const text = new TextDecoder().decode(Bun.gunzipSync(new Uint8Array(await zipped.arrayBuffer())));
    expect(JSON.parse(text)).toEqual(big);
  });
});
