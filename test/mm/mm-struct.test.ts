import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SYNC_WORDS_BASE, SYNC_WORDS_COUNT } from '../../src/mm/arena-layout.js';
import { MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { VM_MERGEABLE, VM_READ, VM_WRITE } from '../../src/mm/vm-flags.js';

const globals = MmGlobals.create({ maxFiles: 64, fileHeapBytes: 1 << 16, anonNameSlots: 64 });
const P = 4096;

function mapAnon(mm: MmStruct, start: number, end: number): number {
  const id = mm.allocVma();
  mm.vmas.setRange(id, start, end, start / P);
  mm.vmas.setFlags(id, VM_READ | VM_WRITE);
  mm.indexStore(id);
  mm.mapCount++;
  return id;
}

describe('MmStruct', () => {
  it('round-trips header fields through the shared buffer to an attached view', () => {
    const mm = MmStruct.create({ maxVmas: 100, globals });
    mm.startBrk = 0x5555_5555_0000;
    mm.brk = 0x5555_5557_0000;
    mm.startStack = 0x7ffd_1234_5000;
    mm.mmapBase = 0x7f12_3456_7000;
    mm.startCode = 0x5555_5554_0000;
    mm.totalVm = 1234;
    const exe = globals.files.intern({ path: '/bin/true', devMajor: 8, devMinor: 1, inode: 3 });
    mm.setExeFile(exe);
    globals.files.put(exe); // the mm holds its own reference
    const other = MmStruct.attach(mm.buffer, MmGlobals.attach(globals.buffers()));
    assert.equal(other.startBrk, 0x5555_5555_0000);
    assert.equal(other.brk, 0x5555_5557_0000);
    assert.equal(other.startStack, 0x7ffd_1234_5000);
    assert.equal(other.mmapBase, 0x7f12_3456_7000);
    assert.equal(other.startCode, 0x5555_5554_0000);
    assert.equal(other.totalVm, 1234);
    assert.equal(other.exeFile, exe);
    assert.equal(globals.files.refs(exe), 1);
    assert.equal(other.maxMapCount, 100);
  });

  it('find_vma / find_vma_prev / vma_lookup see VMAs published by another view', () => {
    const mm = MmStruct.create({ maxVmas: 100, globals });
    const a = mapAnon(mm, 0x1000_0000, 0x1000_4000);
    const b = mapAnon(mm, 0x2000_0000, 0x2000_1000);
    const r = MmStruct.attach(mm.buffer, globals);
    assert.equal(r.findVma(0), a);
    assert.equal(r.findVma(0x1000_4000), b);
    assert.equal(r.findVma(0x2000_1000), 0);
    assert.equal(r.findVmaPrev(0x2000_0000), a);
    assert.equal(r.findVmaPrev(0x2000_0001), b);
    assert.equal(r.vmaLookup(0x1000_3fff), a);
    assert.equal(r.vmaLookup(0x1000_4000), 0);
    assert.equal(r.vmas.start(b), 0x2000_0000);
    assert.equal(r.vmas.end(b), 0x2000_1000);
    assert.equal(r.vmas.pgoff(b), 0x2000_0000 / P);
    assert.deepEqual([...mm.vmasInRange(0x1000_2000, 0x2000_0000)], [a]);
    assert.deepEqual([...mm.vmasInRange()], [a, b]);
  });

  it('records: fields, uint32 flags, 32-bit halves, lock words in the record', () => {
    const mm = MmStruct.create({ maxVmas: 10, globals });
    const id = mm.allocVma();
    const addr = 0x7f3c_1a5e_5000;
    mm.vmas.setRange(id, addr, addr + P, 0xabcdef);
    mm.vmas.setFlags(id, VM_MERGEABLE | VM_READ);
    assert.equal(mm.vmas.flags(id), 0x8000_0001);
    assert.equal(mm.vmas.startHi(id), 0x7f3c);
    assert.equal(mm.vmas.startLo(id), 0x1a5e_5000);
    assert.equal(mm.vmas.startHi(id) * 2 ** 32 + mm.vmas.startLo(id), addr);
    assert.equal(mm.vmas.pgoff(id), 0xabcdef);
    // New records are detached with the kernel's initial vm_lock_seq.
    assert.equal(Atomics.load(mm.i32, mm.vmas.refcntWord(id)), 0);
    assert.equal(Atomics.load(mm.i32, mm.vmas.lockSeqWord(id)), -1);
    // The lock words are in the record's own (single) cache line.
    const startByte = mm.geometry.vmaBase + id * 64;
    assert.ok(mm.vmas.refcntWord(id) * 4 >= startByte + 48);
    assert.ok(mm.vmas.lockSeqWord(id) * 4 < startByte + 64);
    // Distinct records never share lock words, and the sync block stays clear of them.
    const id2 = mm.allocVma();
    assert.notEqual(mm.vmas.refcntWord(id), mm.vmas.refcntWord(id2));
    assert.ok(mm.vmas.refcntWord(id) >= SYNC_WORDS_BASE + SYNC_WORDS_COUNT);
    assert.equal(SYNC_WORDS_BASE % 16, 0);
  });

  it('recycles retired records only after reclaim, bumping their generation', () => {
    const mm = MmStruct.create({ maxVmas: 10, globals });
    const id = mapAnon(mm, 0x1000, 0x3000);
    const gen = mm.vmas.gen(id);
    mm.index.erase(0x1000, 0x3000);
    const pending = mm.deferred.pending;
    mm.retireVma(id);
    assert.equal(mm.deferred.pending, pending + 1);
    // Immediate grace: the next allocation reclaims and reuses the slot (LIFO).
    const again = mm.allocVma();
    assert.equal(again, id);
    assert.equal(mm.vmas.gen(again), gen + 1);
    assert.equal(mm.vmas.start(again), 0);
  });

  it('runs out of records with 0 (ENOMEM for the caller), not an exception', () => {
    const mm = MmStruct.create({ maxVmas: 4, globals });
    const got: number[] = [];
    for (;;) {
      const id = mm.allocVma();
      if (id === 0) break;
      got.push(id);
    }
    assert.equal(got.length, mm.vmas.capacity - 1);
    assert.equal(new Set(got).size, got.length);
  });

  it('dupVma and setAnonName keep anon-name reference counts exact; retire puts immediately', () => {
    const g = MmGlobals.create({ maxFiles: 4, fileHeapBytes: 4096, anonNameSlots: 8 });
    const mm = MmStruct.create({ maxVmas: 10, globals: g });
    const h = g.anonNames.alloc('buf');
    const a = mapAnon(mm, 0x1000, 0x5000);
    mm.setAnonName(a, h);
    g.anonNames.put(h); // the prctl's own reference
    assert.equal(g.anonNames.refcount(h), 1);
    const b = mm.dupVma(a);
    assert.equal(mm.vmas.anonName(b), h);
    assert.equal(g.anonNames.refcount(h), 2);
    mm.retireVma(b);
    assert.equal(g.anonNames.refcount(h), 1);
    mm.index.erase(0x1000, 0x5000);
    mm.retireVma(a);
    assert.equal(g.anonNames.isLive(h), false, 'freed at once, not after grace');
    // The dangling handle stays in the retired record, as vma->anon_name does after vm_area_free.
    assert.equal(mm.vmas.anonName(a), h);
  });

  it('attach rejects a buffer that is not an arena', () => {
    assert.throws(() => MmStruct.attach(new SharedArrayBuffer(1024), globals), TypeError);
  });
});
