/**
 * Replaying the recorded start-ups on the engine (single-threaded, the real syscalls) ends with
 * the maps the traced program had at exit_group, every result as the kernel gave it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReplayCallSource } from '../../../src/cpus/replay/replay-activity.js';
import { fileIdentityFromMaps, ReplaySource } from '../../../src/cpus/replay/replay-source.js';
import { parseStraceTrace } from '../../../src/cpus/replay/strace-trace.js';
import { applySyscall } from '../../../src/cpus/syscall-exec.js';
import { importMaps } from '../../../src/mm/import-maps.js';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { readWholeMaps } from '../../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../../src/procfs/vma-capture.js';
import { repoRoot } from '../../http/server-process.js';

const read = (name: string, file: string) =>
  readFileSync(join(repoRoot(), 'test', 'fixtures', 'traces', name, file), 'utf8');
const mapsOf = (mm: MmStruct) =>
  Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');

function replay(mm: MmStruct, source: ReplaySource): void {
  let r: number | undefined;
  for (let c = source.next(); c !== null; c = source.next(r)) r = applySyscall(mm, c);
}

for (const name of ['node-startup', 'jvm-startup'])
  test(`${name}: the replay ends with the traced program's maps, 0 mismatches`, () => {
    const initial = read(name, 'initial-maps.txt');
    const final = read(name, 'final-maps.txt');
    const mm = importMaps(initial);
    const source = new ReplaySource(
      parseStraceTrace(read(name, 'trace.txt')),
      fileIdentityFromMaps(initial, final),
    );
    replay(mm, source);
    assert.equal(source.passDone, true);
    assert.equal(source.callsRun, source.length);
    assert.equal(source.mismatches, 0);
    // Intended difference: a file the program unlinked shows " (deleted)" on the host; unlink is
    // not a memory syscall, so the trace cannot tell (the JVM's hsperfdata file).
    assert.equal(mapsOf(mm), final.replaceAll(' (deleted)\n', '\n'));
  });

test('kernel-chosen addresses the engine places elsewhere are followed; real differences count', () => {
  // The recorded process had something at 0x7f0000000000 that this one does not: its mmap lands
  // elsewhere, and the munmap/mprotect of the recorded address must act on the engine's mapping.
  const trace = parseStraceTrace(
    [
      'brk(NULL) = 0x600000',
      'mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7e0000000000',
      'mprotect(0x7e0000001000, 4096, PROT_NONE) = 0',
      'munmap(0x7e0000003000, 4096) = 0',
      'brk(0x621000) = 0x621000',
      'mmap(0x10000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = 0x10000',
      'munmap(0x10001, 4096) = -1 EINVAL (Invalid argument)',
      'munmap(0x10000, 4096) = -1 EINVAL (Invalid argument)',
    ].join('\n'),
  );
  const mm = importMaps(read('node-startup', 'initial-maps.txt'));
  const source = new ReplaySource(trace);
  replay(mm, source);
  // The last call succeeds here (nothing stops munmap of a real mapping): one mismatch.
  assert.equal(source.mismatches, 1);
  const maps = mapsOf(mm);
  const anon = maps.split('\n').filter((l) => / 00:00 0 +$/.test(l) && !l.startsWith('0565d000'));
  // mmap placed top-down below ld.so, split by the mprotect, tail unmapped: rw- --- rw- pieces.
  assert.deepEqual(
    anon.map((l) => l.split(' ')[1]),
    ['rw-p', '---p', 'rw-p'],
  );
  // The heap grew from the engine's break by the recorded amount.
  assert.match(maps, /^05689000-056aa000 rw-p 00000000 00:00 0 +\[heap\]$/m);
});

test('a replay is due at its recorded pace divided by speed (0: at once)', () => {
  const trace = parseStraceTrace(read('jvm-startup', 'trace.txt'));
  const plan = { calls: trace.calls, files: {}, unmodelled: trace.unmodelled };
  const t0 = trace.calls[0]!.time!;
  for (const speed of [1, 2.5]) {
    const source = new ReplayCallSource(plan, speed, false);
    let previous: number | undefined;
    for (let i = 0; i < trace.calls.length; i++) {
      const due = source.nextDueS;
      assert.ok(due !== null);
      assert.ok(Math.abs(due - (trace.calls[i]!.time! - t0) / speed) < 1e-9, `call ${i}`);
      assert.notEqual(source.next(previous), null);
      previous = trace.calls[i]!.result;
    }
    assert.equal(source.next(previous), null);
    assert.equal(source.finished, true);
  }
  assert.equal(new ReplayCallSource(plan, 0, false).nextDueS, null);
  // The recording spans some time, so the pace is not trivially 0.
  assert.ok(trace.calls.at(-1)!.time! - t0 > 0.01);
});
