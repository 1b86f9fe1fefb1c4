import { expect, test } from "bun:test";
import { generateRequestId, requestIdFor } from "../../../src/http/index.ts";

test("a sane client X-Request-ID is reused", () => {
  expect(requestIdFor(new Headers({ "x-request-id": "trace-123/abc" }))).toBe("trace-123/abc");
});

test.each([["has space"], ["x".repeat(129)], ["tab\tbed"], ["ünï"]])("%p is replaced", (given) => {
  const id = requestIdFor(new Headers({ "x-request-id": given }));
  expect(id).not.toBe(given);
  expect(id).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
});

test("generated ids vary", () => {
  const ids = new Set(Array.from({ length: 50 }, generateRequestId));
  expect(ids.size).toBeGreaterThan(40);
});
