import { describe, expect, test } from "bun:test";
import { requestTarget } from "../../../src/http/request-target.ts";

describe("requestTarget", () => {
  // What Bun gives as request.url (dot segments already resolved): the answer must be URL's own.
  test.each([
    "http://127.0.0.1:40114/olla/v1/chat/completions",
    "http://h/olla/api/tags?x=1&y=%20z",
    "http://h/a?b#c",
    "http://h/a#frag?not-a-query",
    "http://h/a?",
    "http://h/a?#",
    "http://h",
    "http://h?q=1",
    "http://h#f/g",
    "http://[::1]:8080?a=/b",
    "http://[::1]:8080/olla/v1/models?a=/b",
    "http://h/olla/x?y=1?z=2",
    "http://h/%C3%A9/a%2Fb;c=d",
    "https://user:pw@h:9/p//q",
  ])("%s reads as URL reads it", (url) => {
    const parsed = new URL(url);
    expect(requestTarget(url)).toEqual({ path: parsed.pathname, search: parsed.search });
  });

  // Bun's form for a request without a usable Host header, which new URL() throws on.
  test.each([
    ["/internal/health", "/internal/health", ""],
    ["/olla/api/version?probe=1#f", "/olla/api/version", "?probe=1"],
    ["/?", "/", ""],
  ])("relative %s", (url, path, search) => {
    expect(requestTarget(url)).toEqual({ path, search });
  });
});
