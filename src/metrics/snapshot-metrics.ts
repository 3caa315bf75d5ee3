// Snapshot metrics (POST /snapshot and the save on shutdown, src/state): how long a save took,
// how big the file was, how many saves succeeded or failed. Registered in the app's registry.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SnapshotMetrics {
  readonly duration: Histogram;
  readonly bytes: Gauge;
  readonly vmas: Gauge;
  readonly saves: Counter<'result'>;
}

/** Save durations: 1 ms … ~65 s, factor 2. */
const SNAPSHOT_BUCKETS = Array.from({ length: 17 }, (_, k) => 0.001 * 2 ** k);

export function createSnapshotMetrics(registry: Registry): SnapshotMetrics {
  const saves = new Counter({
    name: 'procfs_snapshots_total',
    help: 'Snapshots written to --state-dir, by result (ok or error)',
    labelNames: ['result'],
    registers: [registry],
  });
  saves.inc({ result: 'ok' }, 0);
  saves.inc({ result: 'error' }, 0);
  return {
    duration: new Histogram({
      name: 'procfs_snapshot_duration_seconds',
      help: 'Time to capture, encode and durably write one snapshot',
      buckets: SNAPSHOT_BUCKETS,
      registers: [registry],
    }),
    bytes: new Gauge({
      name: 'procfs_snapshot_bytes',
      help: 'Size of the last snapshot file written',
      registers: [registry],
    }),
    vmas: new Gauge({
      name: 'procfs_snapshot_vmas',
      help: 'VMAs in the last snapshot written',
      registers: [registry],
    }),
    saves,
  };
}
