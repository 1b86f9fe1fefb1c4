import { describe, expect, test } from "bun:test";
import { type BodyWaiter, unwatchBody, watchBody, watchedBodies } from "../../../src/proxy/body-deadlines.ts";

/** A waiter that records when it expired (performance.now()). */
class Waiter implements BodyWaiter {
  prevWaiter: BodyWaiter | null = null;
  nextWaiter: BodyWaiter | null = null;
  expiredAt: number | undefined = undefined;
  expiries = 0;
  constructor(
    readonly endsAt: number,
    private readonly then?: () => void,
  ) {}
  expire(): void {
    this.expiries++;
    this.expiredAt = performance.now();
    this.then?.();
  }
}

const inMs = (ms: number) => new Waiter(performance.now() + ms);

describe("body deadlines", () => {
  test("each waiter expires once, at its own deadline, whatever the order it joined in", async () => {
    const start = performance.now();
    const late = inMs(120);
    const early = inMs(30);
    const middle = inMs(70);
    for (const waiter of [late, early, middle]) watchBody(waiter);
    expect(watchedBodies()).toBe(3);
    await Bun.sleep(200);
    for (const [waiter, ms] of [
      [early, 30],
      [middle, 70],
      [late, 120],
    ] as const) {
      expect(waiter.expiries).toBe(1);
      expect(waiter.expiredAt! - start).toBeGreaterThanOrEqual(ms - 2);
      expect(waiter.expiredAt! - start).toBeLessThan(ms + 60);
    }
    expect(watchedBodies()).toBe(0);
  });

  test("an unwatched waiter never expires and leaves the list, from its head, middle or end", async () => {
    const waiters = [inMs(30), inMs(30), inMs(30), inMs(30)];
    for (const waiter of waiters) watchBody(waiter);
    // The list is newest first: waiters[3] is the head, waiters[0] the end.
    unwatchBody(waiters[3]!);
    unwatchBody(waiters[1]!);
    unwatchBody(waiters[0]!);
    // Twice, or never watched: no harm.
    unwatchBody(waiters[0]!);
    unwatchBody(inMs(5));
    expect(watchedBodies()).toBe(1);
    await Bun.sleep(80);
    expect(waiters.map((waiter) => waiter.expiries)).toEqual([0, 0, 1, 0]);
    expect(watchedBodies()).toBe(0);
  });

  test("a waiter that joins before the armed deadline is not kept waiting for it", async () => {
    const slow = inMs(300);
    watchBody(slow);
    const quick = inMs(20);
    watchBody(quick);
    await Bun.sleep(80);
    expect(quick.expiries).toBe(1);
    expect(slow.expiries).toBe(0);
    unwatchBody(slow);
    expect(watchedBodies()).toBe(0);
  });

  test("an expiry may watch a new waiter, which expires in turn", async () => {
    const next = inMs(60);
    const first = new Waiter(performance.now() + 20, () => watchBody(next));
    watchBody(first);
    await Bun.sleep(120);
    expect(first.expiries).toBe(1);
    expect(next.expiries).toBe(1);
    expect(watchedBodies()).toBe(0);
  });

  test("thousands of short waits that end in time leave nothing behind and never expire", async () => {
    const waiters = Array.from({ length: 5000 }, () => inMs(40));
    for (const waiter of waiters) watchBody(waiter);
    for (const waiter of waiters) unwatchBody(waiter);
    expect(watchedBodies()).toBe(0);
    await Bun.sleep(80);
    expect(waiters.some((waiter) => waiter.expiries > 0)).toBe(false);
  });
});
