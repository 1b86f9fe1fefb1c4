// In-memory token buckets for one process: a Map from key to "full at" time. Full buckets are swept away,
// since a missing bucket and a full one behave the same.

import { admit, type BucketResult, type BucketRule, describe } from "./token-bucket.ts";

export interface BucketRequest {
  key: string;
  rule: BucketRule;
}

export interface LocalBuckets {
  /**
   * Takes one token from every bucket, or from none: the request passes only if each bucket has one, so a
   * request refused by its per-IP bucket costs nothing from the global one. One result per request, in
   * order. Keys must be distinct.
   */
  takeAll(requests: readonly BucketRequest[], now: number): BucketResult[];
  take(key: string, rule: BucketRule, now: number): BucketResult;
  /** Drops buckets that are full again at `now`; returns how many went. Call every cleanup_interval. */
  sweep(now: number): number;
  /** Buckets held (not yet full). */
  size(): number;
}

export function createLocalBuckets(): LocalBuckets {
  const fullAt = new Map<string, number>();

  function takeAll(requests: readonly BucketRequest[], now: number): BucketResult[] {
    const next: (number | undefined)[] = [];
    let all = true;
    for (const { key, rule } of requests) {
      const after = admit(fullAt.get(key), rule, now);
      next.push(after);
      if (after === undefined) all = false;
    }
    return requests.map(({ key, rule }, index) => {
      const after = next[index];
      if (all) fullAt.set(key, after as number);
      return describe(all ? after : fullAt.get(key), rule, now, after !== undefined);
    });
  }

  return {
    takeAll,
    take: (key, rule, now) => takeAll([{ key, rule }], now)[0] as BucketResult,
    sweep(now) {
      let removed = 0;
      for (const [key, at] of fullAt) {
        if (at <= now) {
          fullAt.delete(key);
          removed++;
        }
      }
      return removed;
    },
    size: () => fullAt.size,
  };
}
