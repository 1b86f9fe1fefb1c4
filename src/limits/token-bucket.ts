// Token-bucket arithmetic shared by the in-memory and the Redis stores. A bucket is one number, the
// moment it will be full again ("full at", the GCRA form): absent or in the past means full, so an idle
// bucket needs no memory, and a take only pushes that moment one token interval further.

export interface BucketRule {
  /** The configured rate; reported as X-RateLimit-Limit. */
  perMinute: number;
  /** Tokens a full bucket holds: how many requests may arrive at once. */
  capacity: number;
  /** Milliseconds to earn one token back. */
  intervalMs: number;
  /** Milliseconds from empty to full (capacity × interval). */
  windowMs: number;
}

export interface BucketResult {
  /** This bucket had a token. (A multi-bucket take consumes only when every bucket had one.) */
  allowed: boolean;
  /** The rule's requests per minute. */
  limit: number;
  /** Whole tokens left after this request: requests that would pass right now. */
  remaining: number;
  /** Seconds (rounded up) until the bucket is full again; 0 when it is full. */
  resetSeconds: number;
  /** Seconds (rounded up, at least 1) until a token is back; 0 when allowed. */
  retryAfterSeconds: number;
}

/** Float slack in ms: refill intervals like 60000/7 are not exact, so `burst` of them may sum to a hair
 *  over the window. */
export const EPSILON_MS = 0.001;

/**
 * The rule for `perMinute` requests per minute refilled continuously, or undefined when the limit is off
 * (`perMinute` ≤ 0). Capacity is `burst` when positive; with `burst` 0 a client may spend a whole minute's
 * allowance at once (Olla throttles everything then, which only ever surprises).
 */
export function bucketRule(perMinute: number, burst: number): BucketRule | undefined {
  if (!(perMinute > 0)) return undefined;
  const capacity = burst > 0 ? burst : perMinute;
  const intervalMs = 60_000 / perMinute;
  return { perMinute, capacity, intervalMs, windowMs: capacity * intervalMs };
}

/** The bucket's "full at" after taking one token at `now`, or undefined when it holds none. */
export function admit(fullAt: number | undefined, rule: BucketRule, now: number): number | undefined {
  const next = Math.max(fullAt ?? now, now) + rule.intervalMs;
  return next - now <= rule.windowMs + EPSILON_MS ? next : undefined;
}

/** Header numbers for a bucket whose "full at" is `fullAt` at `now` (after any take). */
export function describe(
  fullAt: number | undefined,
  rule: BucketRule,
  now: number,
  allowed: boolean,
): BucketResult {
  const debt = Math.max(0, (fullAt ?? now) - now);
  const retryMs = debt + rule.intervalMs - rule.windowMs;
  return {
    allowed,
    limit: rule.perMinute,
    remaining: Math.max(0, Math.floor((rule.windowMs - debt + EPSILON_MS) / rule.intervalMs)),
    resetSeconds: Math.max(0, Math.ceil((debt - EPSILON_MS) / 1000)),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((retryMs - EPSILON_MS) / 1000)),
  };
}
