// Security violations for /internal/status, as Olla counts them: requests refused for the rate limit
// (429) or for their size (413), and the client IPs refused with 429 lately. Touched on refusals only.

export interface ViolationOptions {
  /** Most client IPs remembered at once; the one refused longest ago goes first. */
  maxIps?: number;
  /** An IP not refused for this long is forgotten. */
  forgetAfterMs?: number;
  now?: () => number;
}

export interface SecuritySnapshot {
  status: "normal" | "elevated";
  blocked_ips: number;
  violations: { rate_limits: number; size_limits: number };
}

export interface Violations {
  rateLimited(ip: string | undefined): void;
  sizeLimited(): void;
  snapshot(): SecuritySnapshot;
}

/** Olla's thresholds for an "elevated" security status. */
const ELEVATED_VIOLATIONS = 100;
const ELEVATED_IPS = 10;

export function createViolations(options: ViolationOptions = {}): Violations {
  const maxIps = options.maxIps ?? 10_000;
  const forgetAfterMs = options.forgetAfterMs ?? 60 * 60 * 1000;
  const now = options.now ?? Date.now;
  // Insertion order is refusal order (an IP refused again moves to the end): the oldest come first.
  const lastRefused = new Map<string, number>();
  let rateLimits = 0;
  let sizeLimits = 0;

  const forget = (at: number) => {
    for (const [ip, refusedAt] of lastRefused) {
      if (at - refusedAt < forgetAfterMs) break;
      lastRefused.delete(ip);
    }
  };

  return {
    rateLimited(ip) {
      rateLimits++;
      const at = now();
      const key = ip ?? "unknown";
      lastRefused.delete(key);
      lastRefused.set(key, at);
      forget(at);
      if (lastRefused.size > maxIps) lastRefused.delete(lastRefused.keys().next().value as string);
    },
    sizeLimited() {
      sizeLimits++;
    },
    snapshot() {
      forget(now());
      const blocked = lastRefused.size;
      return {
        status:
          rateLimits + sizeLimits > ELEVATED_VIOLATIONS || blocked > ELEVATED_IPS ? "elevated" : "normal",
        blocked_ips: blocked,
        violations: { rate_limits: rateLimits, size_limits: sizeLimits },
      };
    },
  };
}
