// The VMA lock seam (vma-lock-hooks.ts): with checking hooks installed, random syscalls must
// write-lock every VMA before changing or removing it (vma_start_write), attach new records only
// while write-locked and before they are in the index, and detach removed records only after
// their range left the index, each exactly once.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { MmGlobals, type MmStruct } from '../../../src/mm/mm-struct.js';
import { exitMm, SINGLE_THREADED_HOOKS, setVmaLockHooks } from '../../../src/mm/syscalls/index.js';
import { newMm, PAGE as P, SANDBOX } from './helpers.js';
import { apply, opArb, WINDOW_PAGES } from './random-ops.js';

/** Fields of each VMA at its first vma_start_write in the current syscall. */
const locked = new Map<number, string>();
const attached = new Set<number>();
const detached = new Set<number>();
/** mmap write lock downgrades seen (munmap, brk and mremap shrinking). */
let downgrades = 0;

setVmaLockHooks({
  startWrite: (mm, id) => {
    if (!locked.has(id)) locked.set(id, fieldsOf(mm, id));
  },
  markAttached: (mm, id) => {
    assert.ok(locked.has(id), `attach of VMA ${id} without its write lock`);
    assert.ok(!attached.has(id), `VMA ${id} attached twice`);
    assert.notEqual(
      mm.vmaLookup(mm.vmas.start(id)),
      id,
      `VMA ${id} attached after its index store`,
    );
    attached.add(id);
    Atomics.store(mm.i32, mm.vmas.refcntWord(id), 1);
  },
  markDetached: (mm, id) => {
    assert.ok(locked.has(id), `detach of VMA ${id} without its write lock`);
    assert.ok(!detached.has(id), `VMA ${id} detached twice`);
    let inIndex = false;
    mm.index.forEach(0, (_s, _e, other) => {
      if (other === id) inIndex = true;
      return !inIndex;
    });
    assert.ok(!inIndex, `VMA ${id} detached while still in the index`);
    detached.add(id);
    Atomics.store(mm.i32, mm.vmas.refcntWord(id), 0);
  },
  writeDowngrade: (mm) => {
    // Nothing a reader can reach may change after a downgrade: every VMA the call write-locked
    // and took out of the index is detached by now.
    for (const id of locked.keys()) {
      let inIndex = false;
      mm.index.forEach(0, (_s, _e, other) => {
        if (other === id) inIndex = true;
        return !inIndex;
      });
      if (!inIndex)
        assert.ok(detached.has(id), `downgrade with VMA ${id} out of the index, attached`);
    }
    downgrades++;
  },
});
after(() => {
  setVmaLockHooks(SINGLE_THREADED_HOOKS);
});

function fieldsOf(mm: MmStruct, id: number): string {
  const v = mm.vmas;
  return `${v.start(id)} ${v.end(id)} ${v.pgoff(id)} ${v.flags(id)} ${v.file(id)} ${v.anonName(id)}`;
}

/** The descriptive fields of every VMA in the index, by id. */
function snapshot(mm: MmStruct): Map<number, string> {
  const m = new Map<number, string>();
  mm.index.forEach(0, (_s, _e, id) => {
    m.set(id, fieldsOf(mm, id));
    return true;
  });
  return m;
}

const globals = MmGlobals.create({ maxFiles: 65_535, fileHeapBytes: 1 << 20, anonNameSlots: 1024 });

test('every VMA a syscall changes or removes is write-locked first; attach/detach are ordered', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), (ops) => {
      const mm = newMm(256, globals);
      mm.startBrk = SANDBOX + (WINDOW_PAGES + 8) * P;
      mm.brk = mm.startBrk;
      const files = [
        mm.files.intern({ path: '/f/rw', devMajor: 8, devMinor: 1, inode: 1 }),
        mm.files.intern({ path: '/f/ro', devMajor: 8, devMinor: 1, inode: 2 }),
      ];
      for (const o of ops) {
        const before = snapshot(mm);
        locked.clear();
        attached.clear();
        detached.clear();
        apply(mm, files, o);
        const now = snapshot(mm);
        for (const [id, fields] of before) {
          const changed = now.get(id) !== fields;
          if (changed) {
            assert.ok(locked.has(id), `VMA ${id} changed by ${o.k} without vma_start_write`);
            assert.equal(locked.get(id), fields, `VMA ${id} changed by ${o.k} before its lock`);
          }
          if (!now.has(id))
            assert.ok(detached.has(id), `VMA ${id} left the index but was not detached`);
        }
        for (const id of now.keys()) {
          if (!before.has(id)) assert.ok(attached.has(id), `new VMA ${id} was never attached`);
        }
      }
      locked.clear();
      attached.clear();
      detached.clear();
      exitMm(mm);
    }),
    { numRuns: 150, seed: 0x10c4 },
  );
  assert.ok(downgrades > 0, 'the random calls include unmaps that downgrade the lock');
});
