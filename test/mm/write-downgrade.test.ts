/**
 * mmap_write_downgrade in the unmap paths (syscalls/vma-munmap.ts, mm-writer.ts): munmap(2), brk
 * shrinking and mremap's in-place shrink downgrade the mmap write lock once the VMAs they remove
 * are out of the index and detached, and finish (zap, close, retire) under the read lock, as
 * Linux's vms_complete_munmap_vmas does with `unlock`; every other unmap (mmap MAP_FIXED over a
 * mapping, mremap's move, a failed call, a range with nothing in it) stays write-locked to the
 * end. The write section then ends with a read unlock, and its hold is recorded in two parts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mutationOpId } from '../../src/metrics/labels.js';
import type { InstrumentRecorder } from '../../src/metrics/recorder.js';
import { MmGlobals, type MmStruct, SYNC_WORDS_BASE } from '../../src/mm/mm-struct.js';
import { installWriterHooks, mmWrite } from '../../src/mm/mm-writer.js';
import {
  brk,
  mmap,
  mprotect,
  mremap,
  munmap,
  SINGLE_THREADED_HOOKS,
  setVmaLockHooks,
} from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
} from '../../src/mm/vm-flags.js';
import { mmWriteLockHeld } from '../../src/sync/mm-seqcount.js';
import {
  mmapLockState,
  mmapReadTrylock,
  mmapReadUnlock,
  mmapWriteTrylock,
} from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { vmaRefcnt } from '../../src/sync/vma-lock.js';

const PAGE = 4096;
const globals = MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 18, anonNameSlots: 512 });
const rcu = RcuDomain.create();
const mm: MmStruct = buildTemplate('minimal', { globals, seed: 1, grace: rcu, maxVmas: 1024 });

/** What the lock looked like right after each downgrade, and which records were detached. */
interface AtDowngrade {
  writerHeld: boolean;
  readers: number;
  seqOdd: boolean;
  /** Another reader gets in; a writer does not. */
  readerGetsIn: boolean;
  writerGetsIn: boolean;
  refcnts: number[];
}
const downgrades: AtDowngrade[] = [];
/** Records detached in the current call (their refcnt is read at the downgrade). */
const detachedInCall: number[] = [];

installWriterHooks();
// The real hooks, which the spies below call on.
const real = setVmaLockHooks(SINGLE_THREADED_HOOKS);
setVmaLockHooks({
  startWrite: (m, id) => real.startWrite(m, id),
  markAttached: (m, id) => real.markAttached(m, id),
  markDetached(m, id) {
    detachedInCall.push(id);
    real.markDetached(m, id);
  },
  writeDowngrade(m) {
    real.writeDowngrade(m);
    const s = mmapLockState(m.i32, SYNC_WORDS_BASE);
    const readerGetsIn = mmapReadTrylock(m.i32, SYNC_WORDS_BASE);
    if (readerGetsIn) mmapReadUnlock(m.i32, SYNC_WORDS_BASE);
    downgrades.push({
      writerHeld: s.writerHeld,
      readers: s.readers,
      seqOdd: mmWriteLockHeld(m.i32, SYNC_WORDS_BASE),
      readerGetsIn,
      writerGetsIn: mmapWriteTrylock(m.i32, SYNC_WORDS_BASE),
      refcnts: detachedInCall.map((id) => vmaRefcnt(m.i32, m.vmas.refcntWord(id))),
    });
  },
});

/** Lock holds recorded by the writer: [mode, ns] (mode 0 read, 1 write). */
const holds: Array<[number, number]> = [];
const recorder = {
  enabled: true,
  lockWait() {},
  lockHold(_lock: number, mode: number, _strategy: number, ns: number) {
    holds.push([mode, ns]);
  },
  mutation() {},
} as unknown as InstrumentRecorder;
const env = { recorder, strategy: 1 as const };

/** Runs one syscall in a write section; returns its result and the downgrades it made. */
function call(op: string, fn: () => number): { r: number; seen: AtDowngrade[] } {
  downgrades.length = 0;
  detachedInCall.length = 0;
  holds.length = 0;
  const r = mmWrite(mm, env, mutationOpId(op as 'munmap'), fn);
  // Whatever happened inside, the section ends with the lock free.
  const s = mmapLockState(mm.i32, SYNC_WORDS_BASE);
  assert.equal(s.writerHeld, false, `${op}: write lock left held`);
  assert.equal(s.readers, 0, `${op}: read lock left held`);
  assert.equal(mmWriteLockHeld(mm.i32, SYNC_WORDS_BASE), false);
  return { r, seen: [...downgrades] };
}

function region(pages: number): number {
  const a = call('mmap', () => mmap(mm, 0, pages * PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS)).r;
  assert.ok(a > 0);
  // Alternate protections so that each page is its own VMA.
  for (let i = 1; i < pages; i += 2) call('mprotect', () => mprotect(mm, a + i * PAGE, PAGE, 1));
  return a;
}

test('munmap(2) downgrades once its VMAs are detached; readers get in, writers do not', () => {
  const a = region(8);
  const { r, seen } = call('munmap', () => munmap(mm, a + 2 * PAGE, 3 * PAGE));
  assert.equal(r, 0);
  assert.equal(seen.length, 1);
  const d = seen[0];
  assert.deepEqual(
    { writerHeld: d.writerHeld, readers: d.readers, seqOdd: d.seqOdd },
    { writerHeld: false, readers: 1, seqOdd: false },
    'held for read by the writer alone, mm_lock_seq even again (every VMA write lock ended)',
  );
  assert.equal(d.readerGetsIn, true);
  assert.equal(d.writerGetsIn, false);
  assert.equal(d.refcnts.length, 3, 'the three VMAs of the range');
  assert.deepEqual(d.refcnts, [0, 0, 0], 'all detached before the downgrade');
  // The hold is recorded in two parts: write until the downgrade, read after it.
  assert.deepEqual(
    holds.map(([mode]) => mode),
    [1, 0],
  );
  assert.equal(mm.findVma(a + 2 * PAGE), mm.findVma(a + 5 * PAGE), 'the range is gone');
});

test('brk shrinking and mremap shrinking in place downgrade too', () => {
  const start = mm.brk;
  assert.equal(call('brk', () => brk(mm, start + 16 * PAGE)).r, start + 16 * PAGE);
  const shrink = call('brk', () => brk(mm, start + 4 * PAGE));
  assert.equal(shrink.r, start + 4 * PAGE);
  assert.equal(shrink.seen.length, 1);
  assert.equal(shrink.seen[0].writerHeld, false);
  assert.equal(mm.brk, start + 4 * PAGE);

  const a = call('mmap', () => mmap(mm, 0, 8 * PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS)).r;
  const m = call('mremap', () => mremap(mm, a, 8 * PAGE, 2 * PAGE, 0, 0));
  assert.equal(m.r, a);
  assert.equal(m.seen.length, 1);
  assert.deepEqual(m.seen[0].refcnts, [0], 'the tail VMA split off and detached');
});

test('the other unmaps, failures and empty ranges stay write-locked to the end', () => {
  const a = region(8);
  const hole = 0x1000_0000;
  const above = mm.findVma(hole);
  assert.ok(above === 0 || mm.vmas.start(above) >= hole + PAGE, 'nothing mapped at the hole');
  const cases: Array<[string, string, () => number]> = [
    ['munmap of a range with no VMA', 'munmap', () => munmap(mm, hole, PAGE)],
    ['munmap of an unaligned address (EINVAL)', 'munmap', () => munmap(mm, a + 1, PAGE)],
    [
      'mmap(MAP_FIXED) over mapped pages',
      'mmap',
      () => mmap(mm, a, 2 * PAGE, 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
    ],
    [
      'mremap moving a mapping (MREMAP_FIXED)',
      'mremap',
      () => mremap(mm, a + 4 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, a + 32 * PAGE),
    ],
    ['mprotect', 'mprotect', () => mprotect(mm, a, 8 * PAGE, 3)],
  ];
  for (const [what, op, fn] of cases) {
    const { seen } = call(op, fn);
    assert.equal(seen.length, 0, what);
    assert.deepEqual(
      holds.map(([mode]) => mode),
      [1],
      `${what}: one write hold`,
    );
  }
});
