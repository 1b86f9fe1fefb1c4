// A circuit breaker: after N consecutive failures it opens for a cool-down, then admits one trial
// request (half-open) whose outcome closes it again or re-opens it. Stops an endpoint that passes
// its health probe but fails real requests from flapping in and out of rotation.

import type { Clock } from "./clock.ts";

export type BreakerState = "closed" | "open" | "half_open";

export interface CircuitBreaker {
  readonly state: BreakerState;
  readonly failures: number;
  /** Whether a request may be sent now (does not claim anything). */
  canTry(): boolean;
  /** Milliseconds until an open breaker lets a trial through (0 when not open). */
  retryInMs(): number;
  /** Claims the right to send: in half-open only one trial runs at a time. False when not allowed. */
  begin(): boolean;
  success(): void;
  failure(): void;
  /** The request ended with no verdict (the client left): free the trial slot. */
  abandon(): void;
}

export interface BreakerOptions {
  /** Consecutive failures that open the breaker; 0 disables it. */
  failureThreshold: number;
  /** How long it stays open before a trial request is let through. */
  openMs: number;
  clock: Clock;
}

export function createCircuitBreaker(options: BreakerOptions): CircuitBreaker {
  let state: BreakerState = "closed";
  let failures = 0;
  let openedAt = 0;
  let trialRunning = false;

  const cooledDown = () => options.clock.now() - openedAt >= options.openMs;
  const open = () => {
    state = "open";
    openedAt = options.clock.now();
    trialRunning = false;
  };

  return {
    get state() {
      return state;
    },
    get failures() {
      return failures;
    },
    canTry() {
      if (state === "closed") return true;
      if (state === "open") return cooledDown();
      return !trialRunning;
    },
    retryInMs() {
      return state === "open" ? Math.max(0, openedAt + options.openMs - options.clock.now()) : 0;
    },
    begin() {
      if (state === "closed") return true;
      if (state === "open") {
        if (!cooledDown()) return false;
        state = "half_open";
      }
      if (trialRunning) return false;
      trialRunning = true;
      return true;
    },
    success() {
      state = "closed";
      failures = 0;
      trialRunning = false;
    },
    abandon() {
      trialRunning = false;
    },
    failure() {
      failures++;
      if (state === "half_open") open();
      else if (options.failureThreshold > 0 && failures >= options.failureThreshold) open();
    },
  };
}
