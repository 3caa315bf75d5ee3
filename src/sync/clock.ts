// The monotonic clock recorders measure durations with. performance.now() is a double in
// milliseconds with sub-microsecond resolution on Node (derived from the same hrtime source as
// process.hrtime.bigint()) and, unlike hrtime.bigint(), allocates nothing.

import { performance } from 'node:perf_hooks';

/** Monotonic time in nanoseconds (fractional); only differences are meaningful. */
export function nowNs(): number {
  return performance.now() * 1e6;
}
