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

test("generated ids vary, in every adjective, action and hex digit", () => {
  const ids = Array.from({ length: 5000 }, generateRequestId);
  expect(new Set(ids).size).toBeGreaterThan(4500);
  for (const id of ids) expect(id).toMatch(/^[a-z]+-[a-z]+-[0-9a-f]{4}$/);
  const parts = ids.map((id) => id.split("-"));
  expect(new Set(parts.map(([adjective]) => adjective)).size).toBe(10);
  expect(new Set(parts.map(([, action]) => action)).size).toBe(9);
  for (let digit = 0; digit < 4; digit++)
    expect(new Set(parts.map(([, , hex]) => hex![digit])).size).toBe(16);
});
