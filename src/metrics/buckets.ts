// Histogram buckets shared by every engine duration histogram: upper bounds 100 ns * 2^k for
// k = 0..20 (100 ns … ~104.9 ms), then +Inf. Factor 2 keeps p99 estimates within a factor of
// ~1.4 across the whole range from an uncontended lock hold to a writer stalled behind a reader.

export const BUCKET_BASE_NS = 100;
/** Number of finite buckets; the +Inf bucket comes after them. */
export const FINITE_BUCKET_COUNT = 21;
/** Index of the +Inf bucket (also the number of finite buckets). */
export const INF_BUCKET = FINITE_BUCKET_COUNT;

/** Finite upper bounds in nanoseconds (exact integers). */
export const BUCKET_BOUNDS_NS: readonly number[] = Array.from(
  { length: FINITE_BUCKET_COUNT },
  (_, k) => BUCKET_BASE_NS * 2 ** k,
);

/** The same bounds in seconds, as exposed in the `le` label. */
export const BUCKET_BOUNDS_SECONDS: readonly number[] = Array.from(
  { length: FINITE_BUCKET_COUNT },
  (_, k) => 1e-7 * 2 ** k,
);

const LARGEST_FINITE_NS = BUCKET_BASE_NS * 2 ** (FINITE_BUCKET_COUNT - 1);

/**
 * The bucket a duration of `ns` nanoseconds falls in: the smallest k with ns <= 100 * 2^k
 * (Prometheus `le` semantics), INF_BUCKET above the last bound. Integer arithmetic only:
 * with m = ceil(ns / 100), ns <= 100 * 2^k  <=>  m <= 2^k, so k = ceil(log2(m)) =
 * 32 - clz32(m - 1) for m >= 2. No Math.log2, so bounds are exact. `ns` must be >= 0.
 */
export function bucketIndexForNs(ns: number): number {
  if (ns > LARGEST_FINITE_NS) return INF_BUCKET;
  const m = Math.ceil(ns / BUCKET_BASE_NS);
  return m <= 1 ? 0 : 32 - Math.clz32(m - 1);
}
