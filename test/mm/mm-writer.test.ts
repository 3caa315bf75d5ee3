/**
 * The writer protocol (src/mm/mm-writer.ts) checked on random syscalls: every VMA record a call
 * changes or removes was write-locked first, new ones are attached and removed ones detached,
 * every lock is released at the end, and records removed while an RCU reader is inside its
 * section are not reused until it leaves.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mutationOpId } from '../../src/metrics/labels.js';
import { MmGlobals, type MmStruct, SYNC_WORDS_BASE } from '../../src/mm/mm-struct.js';
import { beginMmWrite, endMmWrite, installWriterHooks, mmWrite } from '../../src/mm/mm-writer.js';
import {
  mmap,
  mprotect,
  mremap,
  munmap,
  prctlSetVmaAnonName,
  setVmaLockHooks,
  type VmaLockHooks,
} from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
} from '../../src/mm/vm-flags.js';
import { mmWriteLockHeld } from '../../src/sync/mm-seqcount.js';
import { mmapLockState } from '../../src/sync/mmap-lock.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import { vmaRefcnt } from '../../src/sync/vma-lock.js';

const globals = MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 18, anonNameSlots: 512 });
const rcu = RcuDomain.create();
const env = { recorder: null, strategy: 1 as const };
const PAGE = 4096;

// Address spaces are built single-threaded (no locks) before the writer hooks go in.
const bashMm = buildTemplate('bash', { globals, seed: 3, grace: rcu, maxVmas: 4096 });
const minimalMm = buildTemplate('minimal', { globals, seed: 1, grace: rcu, maxVmas: 4096 });
const bare = buildTemplate('minimal', { globals, seed: 1, maxVmas: 256 });
const small = buildTemplate('minimal', { globals, seed: 1, grace: rcu, maxVmas: 256 });

installWriterHooks();
const real = setVmaLockHooks({
  startWrite: () => {},
  markAttached: () => {},
  markDetached: () => {},
  writeDowngrade: () => {},
});
const writeLocked = new Set<number>();
const attached = new Set<number>();
const detached = new Set<number>();
setVmaLockHooks({
  startWrite(mm, id) {
    writeLocked.add(id);
    real.startWrite(mm, id);
  },
  markAttached(mm, id) {
    attached.add(id);
    real.markAttached(mm, id);
  },
  markDetached(mm, id) {
    assert.ok(writeLocked.has(id), `VMA ${id} detached without vma_start_write`);
    detached.add(id);
    real.markDetached(mm, id);
  },
  writeDowngrade: (mm) => real.writeDowngrade(mm),
} satisfies VmaLockHooks);

function records(mm: MmStruct): Map<number, string> {
  const m = new Map<number, string>();
  const t = mm.vmas;
  for (const [, , id] of mm.index.entries()) {
    m.set(
      id,
      [
        t.start(id),
        t.end(id),
        t.pgoff(id),
        t.flags(id),
        t.file(id),
        t.anonName(id),
        t.ops(id),
      ].join(),
    );
  }
  return m;
}

/** A tiny deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

test('every changed or removed VMA is write-locked first; locks released after each call', () => {
  const mm = bashMm;
  const base = mmWrite(mm, env, 0, () => mmap(mm, 0, 256 * PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS));
  assert.ok(base > 0);
  const rnd = prng(42);
  const page = () => base + Math.floor(rnd() * 256) * PAGE;
  const pages = () => (1 + Math.floor(rnd() * 8)) * PAGE;
  let changedCalls = 0;
  for (let i = 0; i < 2000; i++) {
    const before = records(mm);
    writeLocked.clear();
    attached.clear();
    detached.clear();
    const kind = Math.floor(rnd() * 6);
    const op = mutationOpId(
      ['mmap', 'munmap', 'mprotect', 'mremap', 'anon_name', 'mremap'][kind] as 'mmap',
    );
    const r = mmWrite(mm, env, op, () => {
      switch (kind) {
        case 0:
          return mmap(
            mm,
            page(),
            pages(),
            Math.floor(rnd() * 4),
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
          );
        case 1:
          return munmap(mm, page(), pages());
        case 2:
          return mprotect(mm, page(), pages(), Math.floor(rnd() * 4));
        case 3:
          return mremap(mm, page(), pages(), pages(), MREMAP_MAYMOVE, 0);
        case 4:
          return prctlSetVmaAnonName(mm, page(), pages(), rnd() < 0.3 ? null : `n${i % 3}`);
        default:
          return mremap(
            mm,
            page(),
            PAGE,
            PAGE,
            MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
            page(),
          );
      }
    });
    const after = records(mm);
    for (const [id, rec] of before) {
      if (after.get(id) !== rec) {
        assert.ok(writeLocked.has(id), `call ${i} kind ${kind} (=${r}) changed VMA ${id} unlocked`);
        changedCalls++;
      }
      if (!after.has(id))
        assert.ok(detached.has(id), `call ${i}: VMA ${id} left the tree attached`);
    }
    for (const id of after.keys()) {
      if (!before.has(id)) assert.ok(attached.has(id), `call ${i}: VMA ${id} published unattached`);
      assert.equal(vmaRefcnt(mm.i32, mm.vmas.refcntWord(id)), 1, 'attached, no reader, no writer');
    }
    for (const id of detached) {
      if (attached.has(id)) continue; // retired earlier in the call and reused after grace
      assert.equal(vmaRefcnt(mm.i32, mm.vmas.refcntWord(id)), 0, `call ${i} kind ${kind}: ${id}`);
    }
    assert.equal(mmWriteLockHeld(mm.i32, SYNC_WORDS_BASE), false);
    assert.equal(mmapLockState(mm.i32, SYNC_WORDS_BASE).writerHeld, false);
  }
  assert.ok(changedCalls > 500, `the random calls changed VMAs (${changedCalls})`);
});

test('records removed during an RCU read section are not reused until it ends', () => {
  const mm = minimalMm;
  const a = mmWrite(mm, env, 0, () => mmap(mm, 0, 64 * PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS));
  rcu.readLock();
  const removed = new Set<number>();
  for (let i = 0; i < 200; i++) {
    detached.clear();
    attached.clear();
    mmWrite(mm, env, 0, () =>
      mmap(mm, a + (i % 63) * PAGE, PAGE, i % 2 ? 1 : 3, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
    );
    for (const id of attached)
      assert.ok(!removed.has(id), `record ${id} reused inside the section`);
    for (const id of detached) removed.add(id);
  }
  rcu.readUnlock();
  assert.ok(removed.size > 50);
  const heldAtUnlock = mm.vmas.inUse;
  for (let i = 0; i < 200; i++) {
    attached.clear();
    mmWrite(mm, env, 0, () =>
      mmap(mm, a + (i % 63) * PAGE, PAGE, i % 2 ? 3 : 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
    );
  }
  // Reclaimed once the section ended: the records held drop back by most of those removed (the
  // free list is LIFO, so which ids come back first depends on the reclaim batch size).
  assert.ok(mm.vmas.inUse <= heldAtUnlock - removed.size / 2, 'retired records reclaimed');
});

test('a writer refuses an mm without RCU grace periods and cannot nest', () => {
  assert.throws(() => mmWrite(bare, env, 0, () => 0), /RCU grace/);
  const mm = small;
  beginMmWrite(mm);
  assert.equal(mmWriteLockHeld(mm.i32, SYNC_WORDS_BASE), true);
  assert.throws(() => beginMmWrite(mm), /already open/);
  endMmWrite(mm, env, 0, 0);
  assert.equal(mmWriteLockHeld(mm.i32, SYNC_WORDS_BASE), false);
});
