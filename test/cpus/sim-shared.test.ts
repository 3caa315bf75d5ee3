/**
 * The instruments every engine thread shares are sized for every thread that may run (issue 11:
 * no shared pool smaller than the configured limits): a block for the event loop, each worker CPU
 * and each activity thread admitted under --max-activities, as the RCU reader slots are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSimShared, type SimOptions } from '../../src/cpus/sim-options.js';

const base: SimOptions = {
  strategy: 'per_vma',
  cpus: 2,
  maxProcesses: 4,
  maxVmasPerProcess: 1000,
  maxBatch: 16,
  population: 0,
  maxMemory: 64 << 20,
};

test('instrument blocks cover every thread --max-activities admits', () => {
  const { shared, activities } = createSimShared({ ...base, maxActivities: 2000 });
  assert.equal(activities.max, 2000);
  const threads = 1 + base.cpus + activities.max;
  // 1,024 instrument blocks used to refuse the activity threads past ~1,000 (EAGAIN).
  assert.ok(shared.instruments.capacity >= threads, `${shared.instruments.capacity} blocks`);
  const small = createSimShared({ ...base, maxActivities: 4 }).shared;
  assert.equal(small.instruments.capacity, 1024, 'the default when fewer threads may run');
});
