// Olla judged against the floor of the same run (bench/floor.ts). The machine's speed moves the issue's
// absolute targets from hour to hour, and the floor with them; what olla adds to the floor moves far less.
// The budget is what each target leaves above the prototype (the same pooled design with none of
// olla's work, measured in the same sitting as the target): olla may add that much to the floor.

export interface FloorBudget {
  /** The target. */
  limit: number;
  /** The target is a minimum (throughput ratios); otherwise a maximum. */
  atLeast?: boolean;
  /** The prototype's figure beside the target in the issue. */
  prototype: number;
  /** "ratio" for rates (throughput, CPU per request), which the machine's speed scales; "difference" for
   * added times, which it shifts. */
  scale: "ratio" | "difference";
  /** Decimals shown for a difference (µs: 0, ms: 2). */
  digits?: number;
}

export interface FloorJudgement {
  /** Olla against the floor: "1.23×" or "+40". */
  measured: string;
  /** What the target allows: "≤ 1.33×" or "≤ +40". */
  budget: string;
  within: boolean;
}

/** Undefined where either figure is missing (its section did not run) or a ratio has no floor to divide by. */
export function againstFloor(
  target: FloorBudget,
  olla: number | undefined,
  floor: number | undefined,
): FloorJudgement | undefined {
  if (olla === undefined || floor === undefined) return undefined;
  const sign = target.atLeast === true ? "≥" : "≤";
  // Judged at the precision shown, so the verdict never contradicts the figures beside it.
  const meets = (measured: number, budget: number, digits: number) => {
    const [m, b] = [Number(measured.toFixed(digits)), Number(budget.toFixed(digits))];
    return target.atLeast === true ? m >= b : m <= b;
  };
  if (target.scale === "ratio") {
    if (floor <= 0) return undefined;
    const measured = olla / floor;
    const budget = target.limit / target.prototype;
    return {
      measured: `${measured.toFixed(2)}×`,
      budget: `${sign} ${budget.toFixed(2)}×`,
      within: meets(measured, budget, 2),
    };
  }
  const digits = target.digits ?? 0;
  const signed = (n: number) => `${n < 0 ? "−" : "+"}${Math.abs(n).toFixed(digits)}`;
  const measured = olla - floor;
  const budget = target.limit - target.prototype;
  return {
    measured: signed(measured),
    budget: `${sign} ${signed(budget)}`,
    within: meets(measured, budget, digits),
  };
}
