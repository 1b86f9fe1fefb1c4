// A clock for tests that only moves when told, so backoff and schedules take milliseconds.

import type { Clock } from "../../src/endpoints/index.ts";

/** A clock that only moves when told: `advance(ms)` runs every timer that falls due, in order. */
export function manualClock(start = 0) {
  let current = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; callback: () => void }>();
  const clock: Clock & { advance(ms: number): Promise<void>; pending(): number[] } = {
    now: () => current,
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { at: current + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    async advance(ms) {
      const until = current + ms;
      for (;;) {
        let due: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers)
          if (entry[1].at <= until && (!due || entry[1].at < due[1].at)) due = entry;
        if (!due) break;
        timers.delete(due[0]);
        current = due[1].at;
        due[1].callback();
        // Let promise chains started by the callback (probes) settle before the next timer.
        for (let i = 0; i < 20; i++) await Promise.resolve();
      }
      current = until;
    },
    pending: () => [...timers.values()].map((timer) => timer.at - current).sort((a, b) => a - b),
  };
  return clock;
}
