/**
 * What the strategies record on the thread's instruments (API.md metric names and labels), read
 * back through the /metrics exposition; and mmap_lock's one lock window per chunk.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Instruments } from '../../../src/metrics/instruments.js';
import { createMetricsRegistry } from '../../../src/metrics/registry.js';
import { installWriterHooks } from '../../../src/mm/mm-writer.js';
import { munmap } from '../../../src/mm/syscalls/index.js';
import { createReaderContext, strategyByName } from '../../../src/procfs/strategies/strategy.js';
import { rcu, readAll } from './helpers.js';
import { hookAt, layoutMm, PAGE, v, write } from './layout.js';

installWriterHooks();

/** The value of the series `name{labels}` in an exposition text (labels in any order). */
function series(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.indexOf('}'));
    const got = Object.fromEntries(
      body.split(',').map((kv) => {
        const [k, val] = kv.split('=');
        return [k, val.slice(1, -1)];
      }),
    );
    if (Object.entries(labels).every(([k, val]) => got[k] === val)) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return Number.NaN;
}

test('per_vma records reads, attempts, retries and the detached fallback', async () => {
  const instruments = Instruments.create({ capacity: 4 });
  const mm = layoutMm();
  const { hooks } = hookAt('afterLookup', v(2), 1, (m) => {
    assert.equal(
      write(m, () => munmap(m, v(2), 2 * PAGE)),
      0,
    );
  });
  const ctx = createReaderContext({ rcu, recorder: instruments.recorder(), hooks });
  const s = strategyByName('per_vma');
  assert.equal(readAll(s, ctx, mm, 0).err, 0);
  assert.equal(readAll(s, ctx, mm, 4096).err, 0);
  const { registry } = createMetricsRegistry({
    instruments,
    gauges: () => ({ processes: 0, vmas: 0 }),
  });
  const text = await registry.metrics();
  const l = { op: 'maps', strategy: 'per_vma' };
  assert.equal(series(text, 'procfs_reads_total', l), 2);
  assert.equal(series(text, 'procfs_speculation_attempts_total', l), ctx.stats.attempts);
  assert.equal(series(text, 'procfs_speculation_retries_total', l), 1);
  assert.equal(series(text, 'procfs_fallbacks_total', { ...l, reason: 'detached' }), 1);
  assert.equal(series(text, 'procfs_fallbacks_total', { ...l, reason: 'contention' }), 0);
  assert.equal(series(text, 'procfs_read_duration_seconds_count', l), 2);
});

test('mmap_lock: one mmap read lock per chunk, hold times recorded, no speculation', async () => {
  const instruments = Instruments.create({ capacity: 4 });
  const mm = layoutMm();
  const ctx = createReaderContext({ rcu, recorder: instruments.recorder() });
  const got = readAll(strategyByName('mmap_lock'), ctx, mm, 512);
  assert.ok(got.chunks.length > 3);
  assert.equal(ctx.stats.mmapLocks, got.chunks.length + 1, 'each chunk and the final EOF read');
  assert.equal(ctx.stats.attempts, 0);
  const { registry } = createMetricsRegistry({
    instruments,
    gauges: () => ({ processes: 0, vmas: 0 }),
  });
  const text = await registry.metrics();
  const hold = { lock: 'mmap_lock', mode: 'read', strategy: 'mmap_lock' };
  assert.equal(series(text, 'procfs_lock_hold_seconds_count', hold), got.chunks.length + 1);
  assert.equal(
    series(text, 'procfs_speculation_attempts_total', { op: 'maps', strategy: 'mmap_lock' }),
    0,
  );
});
