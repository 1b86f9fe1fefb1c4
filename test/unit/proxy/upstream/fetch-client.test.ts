// The fetch (sherpa) client's own choices: the unwrapped fast path when readTimeoutMs is 0, and how
// fetch's error codes map to UpstreamError kinds.

import { describe, expect, test } from "bun:test";
import { createFetchClient, toUpstreamError } from "../../../../src/proxy/upstream/fetch-client.ts";
import { UpstreamError } from "../../../../src/proxy/upstream/types.ts";
import { settle, startRawServer, within } from "./raw-server.ts";

describe("fetch client", () => {
  test("readTimeoutMs 0 keeps fetch's own body; a death mid-body still errors, and classifies as reset", async () => {
    const server = startRawServer((_req, conn) => {
      conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
      setTimeout(() => conn.end(), 20);
    });
    const client = createFetchClient({ readTimeoutMs: 0 });
    try {
      const res = await client.request({
        url: server.url(),
        method: "GET",
        headers: new Headers(),
        body: null,
      });
      const { error } = await settle(within(res.text(), 3000, "body"));
      expect(error).toBeDefined();
      const mapped = toUpstreamError(error, false);
      expect(mapped.kind).toBe("reset");
      expect(mapped.beforeResponse).toBe(false);
      expect(client.stats().inFlight).toBe(0);
    } finally {
      client.close();
      server.stop();
    }
  });

  test("error codes map to kinds; an aborted signal wins; UpstreamError passes through", () => {
    const withCode = (code: string) => Object.assign(new TypeError(code), { code });
    expect(toUpstreamError(withCode("ECONNREFUSED"), true).kind).toBe("connect");
    expect(toUpstreamError(withCode("ENOTFOUND"), true).kind).toBe("connect");
    expect(toUpstreamError(withCode("ECONNRESET"), true).kind).toBe("reset");
    expect(toUpstreamError(withCode("DEPTH_ZERO_SELF_SIGNED_CERT"), true).kind).toBe("tls");
    expect(toUpstreamError(withCode("ERR_TLS_CERT_ALTNAME_INVALID"), true).kind).toBe("tls");
    expect(toUpstreamError(withCode("InvalidContentLength"), true).kind).toBe("protocol");
    expect(toUpstreamError(new DOMException("slow", "TimeoutError"), false).kind).toBe("read_timeout");
    expect(toUpstreamError(new Error("something odd"), true).kind).toBe("reset");
    const aborted = toUpstreamError(withCode("ECONNRESET"), false, AbortSignal.abort());
    expect(aborted.kind).toBe("aborted");
    expect(aborted.beforeResponse).toBe(false);
    const original = new UpstreamError("header_timeout", "late", true);
    expect(toUpstreamError(original, false)).toBe(original);
  });
});
