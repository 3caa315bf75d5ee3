/**
 * An older snapshot still restores: `test/fixtures/state/v1.snapshot` was written by the first
 * release of the format (logical-v1, before protection keys were a per-process capability) and
 * must restore to exactly the processes it was taken of (`v1.expected.json`: list, inspect
 * answers, maps bytes, activity definitions), each with protection keys, as every mm behaved
 * then. When the format changes, this file either keeps passing (the old decoder is kept) or is
 * changed to expect the refusal by name (docs/durable-state.md, "Changing the format").
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decodeService, restoreService } from '../../src/state/service-image.js';
import { OLDEST_READABLE_VERSION, openFrame } from '../../src/state/snapshot-frame.js';
import { repoRoot } from '../http/server-process.js';
import { localSim, observe } from './support.js';

const dir = join(repoRoot(), 'test', 'fixtures', 'state');
const sim = await localSim();
after(() => sim.close());

test('the v1 snapshot fixture restores exactly', async () => {
  const frame = openFrame(readFileSync(join(dir, 'v1.snapshot')));
  assert.equal(frame.version, 1);
  assert.ok(OLDEST_READABLE_VERSION <= 1, 'v1 is still readable by this build');
  await restoreService(decodeService(frame.payload, frame.version), sim.durable);
  const expected = JSON.parse(readFileSync(join(dir, 'v1.expected.json'), 'utf8'));
  const got = (await observe(sim)) as { list: unknown; procs: Array<Record<string, unknown>> };
  for (const p of got.procs) {
    delete p.walk;
    assert.equal(p.pkeys, true, `pid ${p.pid}: a v1 process keeps its protection keys`);
    delete p.pkeys;
  }
  assert.equal(got.procs.length, expected.procs.length);
  assert.deepEqual(got, expected);
});
