/**
 * The maps line memo keeps matching after a line that differs (maps-line-memo.ts `splice`):
 * entries of VMAs gone are dropped, a changed line replaces its entry, a new one goes in before
 * the entry it precedes. Checked on random syscalls between reads (every strategy, chunked and
 * not, rounds of many changes that use up the read's splice budget included): every read prints
 * what the direct walker prints, in the same chunks. And on a known change: the lines after a new VMA near the start
 * of the file are copied, not formatted again. The random changes are made single-threaded (the
 * hooks' `vm_lock_seq` markers are what the memo sees), the known one in a write section.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mmap, munmap } from '../../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE } from '../../../src/mm/vm-flags.js';
import { ByteSink } from '../../../src/procfs/byte-sink.js';
import { MapsPosition, readMapsChunk } from '../../../src/procfs/maps-text.js';
import { ALL_STRATEGIES } from '../../../src/procfs/strategies/strategy.js';
import { directMapsWalker } from '../../../src/procfs/vma-capture.js';
import { VmaView } from '../../../src/procfs/vma-view.js';
import { newMm, PAGE as P, SANDBOX } from '../../mm/syscalls/helpers.js';
import { apply, opArb, WINDOW_PAGES } from '../../mm/syscalls/random-ops.js';
import { context, directText, globals, readAll } from './helpers.js';
import { layoutMm, PAGE, v, write } from './layout.js';

/** The lengths of the direct walker's chunks of `limit` bytes (no memo). */
function directChunkLengths(mm: ReturnType<typeof newMm>, limit: number): number[] {
  const pos = new MapsPosition();
  const sink = new ByteSink();
  const walker = directMapsWalker(mm);
  const view = new VmaView();
  const lengths: number[] = [];
  for (;;) {
    sink.clear();
    const n = readMapsChunk(pos, limit, walker, sink, view);
    if (n <= 0) return lengths;
    lengths.push(n);
  }
}

test('random changes between reads: every read prints what the direct walker prints', () => {
  const round = fc.oneof(
    fc.array(opArb, { maxLength: 4 }),
    fc.array(opArb, { minLength: 20, maxLength: 60 }), // past the splice budget
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...ALL_STRATEGIES),
      fc.constantFrom(0, 512, 4096),
      fc.array(round, { minLength: 2, maxLength: 8 }),
      (s, limit, rounds) => {
        const mm = newMm(512, globals);
        mm.startBrk = SANDBOX + (WINDOW_PAGES + 8) * P;
        mm.brk = mm.startBrk;
        const files = [
          mm.internFile({ path: '/f/rw', devMajor: 8, devMinor: 1, inode: 1 }),
          mm.internFile({ path: '/f/ro', devMajor: 8, devMinor: 1, inode: 2 }),
        ];
        const ctx = context();
        for (const [i, ops] of rounds.entries()) {
          // Single-threaded changes (this mm has no RCU grace for a write section).
          for (const o of ops) apply(mm, files, o);
          const got = readAll(s, ctx, mm, limit);
          assert.equal(got.err, 0);
          assert.equal(got.text, directText(mm, limit), `${s.name}, read ${i}`);
          // The same read() boundaries too (lines copied in runs end a chunk where formatting
          // would: memo-run.test.ts).
          const lengths = got.chunks.map((c) => c.length);
          assert.deepEqual(lengths, directChunkLengths(mm, limit), `${s.name}, read ${i}`);
        }
      },
    ),
    { numRuns: 120, seed: 0x5e11ce },
  );
});

test('a VMA mapped near the start of the file: the lines after it are still copied', () => {
  for (const s of ALL_STRATEGIES) {
    const mm = layoutMm();
    const ctx = context();
    const memo = ctx.mapsLines(mm);
    readAll(s, ctx, mm, 0);
    readAll(s, ctx, mm, 0);
    // V4 is the hole between V3 and V5, near the start: a page there, then gone again.
    const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
    // Every line is copied but [vsyscall] (the gate line, never memoised) and a new one.
    const changes: Array<[() => number, number]> = [
      [() => mmap(mm, v(4), PAGE, 7, flags), 2],
      [() => munmap(mm, v(4), PAGE), 1],
    ];
    for (const [change, formatted] of changes) {
      assert.ok(write(mm, change) >= 0);
      const hits = memo.hits;
      const text = readAll(s, ctx, mm, 0).text;
      assert.equal(text, directText(mm));
      const lines = text.split('\n').length - 1;
      assert.equal(memo.hits - hits, lines - formatted, `${s.name}: lines copied of ${lines}`);
    }
  }
});
