import { describe, expect, test } from "bun:test";
import { apiKeyGuard } from "../../../src/limits/index.ts";

const KEY = "olla-test-key-0123456789";
const OTHER = "second-key";
const guard = apiKeyGuard([KEY, OTHER]);

describe("apiKeyGuard", () => {
  test.each([
    ["Bearer token (OpenAI, Ollama clients)", { authorization: `Bearer ${KEY}` }, "ok"],
    ["scheme in any case, extra spaces", { authorization: `  bearer   ${KEY}  ` }, "ok"],
    ["x-api-key (Anthropic clients)", { "x-api-key": KEY }, "ok"],
    ["any configured key", { "x-api-key": OTHER }, "ok"],
    ["wrong key", { authorization: "Bearer nope" }, "invalid"],
    ["a prefix of the key", { authorization: `Bearer ${KEY.slice(0, -1)}` }, "invalid"],
    ["the key and more", { authorization: `Bearer ${KEY}x` }, "invalid"],
    ["a very long key", { "x-api-key": "k".repeat(10_000) }, "invalid"],
    ["one character", { "x-api-key": "k" }, "invalid"],
    ["no credentials", {}, "missing"],
    ["empty Bearer", { authorization: "Bearer " }, "missing"],
    ["other scheme (Basic) is not a key", { authorization: `Basic ${btoa(`user:${KEY}`)}` }, "missing"],
    ["blank x-api-key", { "x-api-key": "  " }, "missing"],
    [
      "one right, one wrong: the client holds a key",
      { authorization: "Bearer nope", "x-api-key": KEY },
      "ok",
    ],
    ["both wrong", { authorization: "Bearer nope", "x-api-key": "nope" }, "invalid"],
  ] as const)("%s → %s", (_name, entries, verdict) => {
    expect(guard.check(new Headers(entries))).toBe(verdict);
  });

  test("no keys configured: off, everything passes", () => {
    const open = apiKeyGuard([]);
    expect(open.enabled).toBe(false);
    expect(open.check(new Headers())).toBe("ok");
    expect(guard.enabled).toBe(true);
  });

  test("a blank configured key is refused, naming its position and no key", () => {
    let message = "";
    try {
      apiKeyGuard([KEY, " "]);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe("API key #2 is empty");
  });
});
