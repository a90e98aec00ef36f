/**
 * Latency histograms for percentiles: log-spaced buckets (each 25 % wider than the one before,
 * 0.05 ms … ~2 min), so a percentile is known within about ±12 %, and histograms of several
 * processes or nodes merge by adding counts.
 */
const FIRST_MS = 0.05;
const RATIO = 1.25;
const LOG_RATIO = Math.log(RATIO);
export const BUCKETS = 66;

/** The bucket of a duration in ms. */
export function bucketOf(ms: number): number {
  if (!(ms > FIRST_MS)) return 0;
  const i = Math.ceil(Math.log(ms / FIRST_MS) / LOG_RATIO);
  return i >= BUCKETS ? BUCKETS - 1 : i;
}

/** upper bound of bucket i, ms */
function upperOf(i: number): number {
  return FIRST_MS * RATIO ** i;
}

/** A sparse histogram as sent between processes and nodes: [bucket, count, bucket, count, …]. */
export type SparseHistogram = number[];

export function toSparse(counts: ArrayLike<number>): SparseHistogram {
  const out: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out.push(i, counts[i]!);
  return out;
}

export function addSparse(into: Float64Array, sparse: SparseHistogram): void {
  for (let i = 0; i + 1 < sparse.length; i += 2) {
    const b = sparse[i]!;
    if (Number.isInteger(b) && b >= 0 && b < BUCKETS) into[b]! += sparse[i + 1]!;
  }
}

/**
 * The q-quantile (0 < q ≤ 1) in ms: the geometric middle of the bucket it falls in (the upper
 * bound for the first one); null without samples.
 */
export function quantile(counts: Float64Array, q: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let acc = 0;
  for (let i = 0; i < counts.length; i++) {
    acc += counts[i]!;
    if (acc >= rank) {
      const v = i === 0 ? upperOf(0) : upperOf(i) / Math.sqrt(RATIO);
      return Math.round(v * 100) / 100;
    }
  }
  return null;
}
