// Sticky sessions as the proxy uses them: outcomes, their counts, purge, and the stats shape.

import { expect, test } from "bun:test";
import { createStickySessions } from "../../../src/routing/sticky-sessions.ts";
import { testEndpoint } from "../../support/endpoints.ts";
import { manualClock } from "../../support/manual-clock.ts";

const a = testEndpoint({ name: "a", url: "http://127.0.0.1:9001" });
const b = testEndpoint({ name: "b", url: "http://127.0.0.1:9002" });
const settings = {
  idleTtlSeconds: 600,
  maxSessions: 100,
  keySources: ["session_header", "prefix_hash"] as const,
  prefixHashBytes: 512,
};

test("outcomes: miss on a new key, hit when its pin served it, repin when another did", () => {
  const sticky = createStickySessions({ ...settings, keySources: [...settings.keySources] });
  expect(sticky.pinnedTo("k")).toBeUndefined();
  sticky.pin("k", a);
  expect(sticky.outcome("k", undefined, a)).toBe("miss");
  const pinned = sticky.pinnedTo("k");
  expect(pinned).toBe(a);
  expect(sticky.outcome("k", pinned, a)).toBe("hit");
  sticky.pin("k", b);
  expect(sticky.outcome("k", pinned, b)).toBe("repin");
  expect(sticky.pinnedTo("k")).toBe(b);
  // No key: nothing to count.
  expect(sticky.outcome(undefined, undefined, a)).toBe("disabled");
  expect(sticky.stats()).toEqual({
    enabled: true,
    active_sessions: 1,
    insertions: 1,
    hits: 1,
    misses: 2,
    evictions: 0,
    max_sessions: 100,
    idle_ttl_seconds: 600,
  });
});

test("purge drops pins to endpoints out of rotation; the idle TTL runs on the given clock", async () => {
  const clock = manualClock();
  const sticky = createStickySessions({ ...settings, keySources: ["ip"], idleTtlSeconds: 10 }, clock);
  sticky.pin("x", a);
  sticky.pin("y", b);
  expect(sticky.purge((endpoint) => endpoint === b)).toBe(1);
  expect(sticky.stats()).toMatchObject({ active_sessions: 1, evictions: 1 });
  await clock.advance(10_000);
  expect(sticky.pinnedTo("y")).toBeUndefined();
  expect(sticky.stats()).toMatchObject({ active_sessions: 0, evictions: 2, idle_ttl_seconds: 10 });
});

test("the body's conversation is looked for only when prefix_hash is a source", () => {
  expect(createStickySessions({ ...settings, keySources: ["prefix_hash"] }).findsConversation).toBe(true);
  expect(createStickySessions({ ...settings, keySources: ["session_header", "ip"] }).findsConversation).toBe(
    false,
  );
});
