// A fixed-bucket histogram: constant memory whatever the traffic, Prometheus-compatible buckets, and
// quantiles estimated by interpolating inside the bucket that holds them.

/** Seconds; from a fast cached answer to a long cold-load generation. */
export const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900,
] as const;

export interface Histogram {
  /** Upper bounds, ascending; an implicit +Inf bucket follows. */
  readonly bounds: readonly number[];
  /** Per-bucket counts (not cumulative); the last one is +Inf. */
  readonly counts: Uint32Array;
  count: number;
  sum: number;
}

export function createHistogram(bounds: readonly number[] = LATENCY_BUCKETS): Histogram {
  return { bounds, counts: new Uint32Array(bounds.length + 1), count: 0, sum: 0 };
}

export function observe(histogram: Histogram, value: number): void {
  const { bounds } = histogram;
  let index = 0;
  while (index < bounds.length && value > bounds[index]!) index++;
  histogram.counts[index]!++;
  histogram.count++;
  histogram.sum += value;
}

/** The q-quantile (0..1), linearly interpolated within its bucket; null when empty. Values in the
 * +Inf bucket report the largest bound (an under-estimate, as Prometheus' histogram_quantile does). */
export function quantile(histogram: Histogram, q: number): number | null {
  if (histogram.count === 0) return null;
  const rank = q * histogram.count;
  let seen = 0;
  for (let index = 0; index < histogram.counts.length; index++) {
    const inBucket = histogram.counts[index]!;
    if (inBucket === 0 || seen + inBucket < rank) {
      seen += inBucket;
      continue;
    }
    const upper = histogram.bounds[index];
    if (upper === undefined) return histogram.bounds.at(-1) ?? null;
    const lower = index === 0 ? 0 : histogram.bounds[index - 1]!;
    return lower + (upper - lower) * ((rank - seen) / inBucket);
  }
  return histogram.bounds.at(-1) ?? null;
}
