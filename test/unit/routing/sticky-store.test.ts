// The sticky-session store: least recently used pins make room, idle pins expire, counters add up.

import { describe, expect, test } from "bun:test";
import { createStickyStore } from "../../../src/routing/sticky-store.ts";
import { testEndpoint } from "../../support/endpoints.ts";
import { manualClock } from "../../support/manual-clock.ts";

const a = testEndpoint({ name: "a", url: "http://127.0.0.1:9001" });
const b = testEndpoint({ name: "b", url: "http://127.0.0.1:9002" });

describe("capacity", () => {
  test("the least recently used pin makes room, and a use counts as recent", () => {
    const store = createStickyStore({ maxSessions: 2, idleTtlMs: 0 });
    store.set("one", a);
    store.set("two", b);
    // "one" is used: "two" is now the least recently used.
    expect(store.get("one")).toBe(a);
    store.set("three", a);
    expect(store.get("two")).toBeUndefined();
    expect(store.get("one")).toBe(a);
    expect(store.get("three")).toBe(a);
    expect(store.counts()).toEqual({ active: 2, insertions: 3, evictions: 1 });
  });

  test("moving a pin to another endpoint is no insertion and evicts nothing", () => {
    const store = createStickyStore({ maxSessions: 1, idleTtlMs: 0 });
    store.set("one", a);
    store.set("one", b);
    expect(store.get("one")).toBe(b);
    expect(store.counts()).toEqual({ active: 1, insertions: 1, evictions: 0 });
  });

  test("never holds more than max_sessions", () => {
    const store = createStickyStore({ maxSessions: 100, idleTtlMs: 0 });
    for (let i = 0; i < 1000; i++) store.set(`k${i}`, i % 2 ? a : b);
    expect(store.counts()).toEqual({ active: 100, insertions: 1000, evictions: 900 });
    expect(store.get("k899")).toBeUndefined();
    expect(store.get("k900")).toBe(b);
  });
});

describe("idle TTL", () => {
  test("a pin unused for idle_ttl is gone; each use restarts its time", async () => {
    const clock = manualClock(1_000);
    const store = createStickyStore({ maxSessions: 10, idleTtlMs: 600_000, now: clock.now });
    store.set("kept", a);
    store.set("idle", b);
    await clock.advance(400_000);
    expect(store.get("kept")).toBe(a);
    await clock.advance(400_000);
    // 800 s since "idle" was set, 400 s since "kept" was used.
    expect(store.get("idle")).toBeUndefined();
    expect(store.get("kept")).toBe(a);
    await clock.advance(599_999);
    expect(store.get("kept")).toBe(a);
    await clock.advance(600_000);
    expect(store.get("kept")).toBeUndefined();
    expect(store.counts()).toEqual({ active: 0, insertions: 2, evictions: 2 });
  });

  test("expired pins leave the active count without being asked for", async () => {
    const clock = manualClock();
    const store = createStickyStore({ maxSessions: 10, idleTtlMs: 1_000, now: clock.now });
    store.set("x", a);
    store.set("y", a);
    await clock.advance(500);
    store.set("z", b);
    expect(store.counts().active).toBe(3);
    await clock.advance(500);
    expect(store.counts()).toEqual({ active: 1, insertions: 3, evictions: 2 });
  });

  test("setting an expired key again is a new insertion", async () => {
    const clock = manualClock();
    const store = createStickyStore({ maxSessions: 10, idleTtlMs: 1_000, now: clock.now });
    store.set("x", a);
    await clock.advance(1_000);
    store.set("x", b);
    expect(store.get("x")).toBe(b);
    expect(store.counts()).toEqual({ active: 1, insertions: 2, evictions: 1 });
  });

  test("idle_ttl 0: pins never expire by time", async () => {
    const clock = manualClock();
    const store = createStickyStore({ maxSessions: 10, idleTtlMs: 0, now: clock.now });
    store.set("x", a);
    await clock.advance(365 * 24 * 3_600_000);
    expect(store.get("x")).toBe(a);
    expect(store.counts()).toEqual({ active: 1, insertions: 1, evictions: 0 });
  });
});

test("purge drops the pins of the endpoints it refuses and counts them as evictions", () => {
  const store = createStickyStore({ maxSessions: 10, idleTtlMs: 0 });
  store.set("s1", a);
  store.set("s2", b);
  store.set("s3", a);
  expect(store.purge((endpoint) => endpoint !== a)).toBe(2);
  expect(store.get("s1")).toBeUndefined();
  expect(store.get("s3")).toBeUndefined();
  expect(store.get("s2")).toBe(b);
  expect(store.counts()).toEqual({ active: 1, insertions: 3, evictions: 2 });
});
