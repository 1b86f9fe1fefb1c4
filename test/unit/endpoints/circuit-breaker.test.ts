import { describe, expect, test } from "bun:test";
import { createCircuitBreaker } from "../../../src/endpoints/index.ts";
import { manualClock } from "../../support/manual-clock.ts";

function breaker(threshold = 3, openMs = 30_000) {
  const clock = manualClock();
  return { clock, breaker: createCircuitBreaker({ failureThreshold: threshold, openMs, clock }) };
}

describe("circuit breaker", () => {
  test("stays closed below the threshold; a success resets the count", () => {
    const { breaker: b } = breaker(3);
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe("closed");
    expect(b.canTry()).toBe(true);
  });

  test("opens at the threshold and refuses until the cool-down has passed", async () => {
    const { clock, breaker: b } = breaker(3, 30_000);
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.state).toBe("open");
    expect(b.canTry()).toBe(false);
    expect(b.begin()).toBe(false);
    await clock.advance(29_999);
    expect(b.canTry()).toBe(false);
    await clock.advance(1);
    expect(b.canTry()).toBe(true);
  });

  test("half-open admits exactly one trial; its success closes the breaker", async () => {
    const { clock, breaker: b } = breaker(1, 1000);
    b.failure();
    await clock.advance(1000);
    expect(b.begin()).toBe(true);
    expect(b.state).toBe("half_open");
    expect(b.canTry()).toBe(false);
    expect(b.begin()).toBe(false);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.begin()).toBe(true);
  });

  test("a failed trial re-opens it for another cool-down", async () => {
    const { clock, breaker: b } = breaker(1, 1000);
    b.failure();
    await clock.advance(1000);
    b.begin();
    b.failure();
    expect(b.state).toBe("open");
    await clock.advance(999);
    expect(b.canTry()).toBe(false);
  });

  test("an abandoned trial frees the slot", async () => {
    const { clock, breaker: b } = breaker(1, 1000);
    b.failure();
    await clock.advance(1000);
    b.begin();
    b.abandon();
    expect(b.begin()).toBe(true);
  });

  test("threshold 0 never opens", () => {
    const { breaker: b } = breaker(0);
    for (let i = 0; i < 100; i++) b.failure();
    expect(b.state).toBe("closed");
  });
});
