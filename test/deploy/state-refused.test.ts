/**
 * The real server with a state dir holding a torn snapshot: it logs one error line naming the
 * reason and where the file was moved, serves an EMPTY service (not the population, not half a
 * restore), and a graceful stop then writes a fresh snapshot beside the refused one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SNAPSHOT_FILE } from '../../src/state/state-store.js';
import { pollUntil } from './support/poll.js';
import { ServiceUnderTest } from './support/service-under-test.js';

const dir = mkdtempSync(join(tmpdir(), 'procfs-refused-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a torn snapshot is refused with a log line and the service starts empty', async () => {
  // A snapshot header whose payload was cut off (as a crash without rename-over would leave).
  const torn = Buffer.alloc(80);
  torn.write('PFSIMSNP', 0, 'latin1');
  torn.writeUInt32LE(2, 8);
  torn.writeBigUInt64LE(5000n, 16);
  writeFileSync(join(dir, SNAPSHOT_FILE), torn);
  const s = await ServiceUnderTest.start(90_000, [
    '--state-dir',
    dir,
    '--population',
    '4',
    '--cpus',
    '0',
  ]);
  try {
    const list = await s.json('GET', '/processes');
    assert.equal((list.body as { total: number }).total, 0, 'empty, no population on top');
    // The log travels through a pipe: wait for the line rather than expect it already there.
    const refusal =
      /snapshot refused \(torn: the header says 5000 payload bytes, found 24\); starting EMPTY/;
    await pollUntil(async () => (refusal.test(s.child.output()) ? true : undefined), {
      what: 'the refusal log line',
      timeoutMs: 30_000,
      intervalMs: 50,
    });
    const files = readdirSync(dir);
    assert.ok(!files.includes(SNAPSHOT_FILE));
    assert.ok(
      files.some((f) => f.startsWith(`${SNAPSHOT_FILE}.refused-`)),
      files.join(','),
    );
  } finally {
    await s.stop();
  }
  const files = readdirSync(dir);
  assert.ok(files.includes(SNAPSHOT_FILE), 'shutdown wrote a new snapshot');
  assert.equal(files.filter((f) => f.includes('.refused-')).length, 1, 'the refused file is kept');
});
