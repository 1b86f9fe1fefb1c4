// The bench's judgement of olla against the floor of the same run (bench/budget.ts), with the issue's own
// targets and prototype figures.

import { describe, expect, test } from "bun:test";
import { againstFloor } from "../../../bench/budget.ts";

const cpu = { limit: 40, prototype: 30, scale: "ratio" } as const;
const throughput = { limit: 0.45, atLeast: true, prototype: 0.52, scale: "ratio" } as const;
const p50 = { limit: 120, prototype: 80, scale: "difference" } as const;
const ttfc = { limit: 0.4, prototype: 0.31, scale: "difference", digits: 2 } as const;

describe("againstFloor", () => {
  test("CPU per request: olla's ratio to the floor against 40/30", () => {
    expect(againstFloor(cpu, 64, 52)).toEqual({ measured: "1.23×", budget: "≤ 1.33×", within: true });
    expect(againstFloor(cpu, 82.9, 58)).toEqual({ measured: "1.43×", budget: "≤ 1.33×", within: false });
    // Missing an absolute target the floor misses too can still be within olla's share.
    expect(againstFloor(cpu, 69, 62)?.within).toBe(true);
  });

  test("a throughput ratio is a minimum: olla must keep enough of the floor's", () => {
    expect(againstFloor(throughput, 0.8, 0.84)).toEqual({
      measured: "0.95×",
      budget: "≥ 0.87×",
      within: true,
    });
    expect(againstFloor(throughput, 0.46, 0.63)).toEqual({
      measured: "0.73×",
      budget: "≥ 0.87×",
      within: false,
    });
  });

  test("added latency: olla's difference from the floor against 120 − 80", () => {
    expect(againstFloor(p50, 210, 170)).toEqual({ measured: "+40", budget: "≤ +40", within: true });
    expect(againstFloor(p50, 340, 180)).toEqual({ measured: "+160", budget: "≤ +40", within: false });
    // Olla faster than the floor in a noisy run.
    expect(againstFloor(ttfc, 0.77, 0.88)).toEqual({ measured: "−0.11", budget: "≤ +0.09", within: true });
  });

  test("the verdict is taken at the precision shown", () => {
    // 0.3901 - 0.30 = 0.0901 shows as +0.09, the budget's own figure: within, as the table reads.
    expect(againstFloor(ttfc, 0.3901, 0.3)).toEqual({ measured: "+0.09", budget: "≤ +0.09", within: true });
    expect(againstFloor(ttfc, 0.396, 0.3)).toEqual({ measured: "+0.10", budget: "≤ +0.09", within: false });
  });

  test("no judgement without both figures, or with no floor to divide by", () => {
    expect(againstFloor(cpu, undefined, 50)).toBeUndefined();
    expect(againstFloor(cpu, 60, undefined)).toBeUndefined();
    expect(againstFloor(cpu, 60, 0)).toBeUndefined();
  });
});
