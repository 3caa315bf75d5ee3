/**
 * VmPeak (mm->hiwater_vm): raised only where Linux raises it (before an unmap lowers total_vm),
 * kept by mremap's move, restarted at fork; and total_vm, which the index operations keep equal
 * to the pages the VMAs cover whatever the path (the differential compares VmPeak with the
 * kernel's; these pin the rules one by one).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmStruct } from '../../src/mm/mm-struct.js';
import { brk } from '../../src/mm/syscalls/brk.js';
import { exitMm, forkMm } from '../../src/mm/syscalls/fork.js';
import { mmap } from '../../src/mm/syscalls/mmap.js';
import { mprotect } from '../../src/mm/syscalls/mprotect.js';
import { mremap } from '../../src/mm/syscalls/mremap.js';
import { munmap } from '../../src/mm/syscalls/munmap.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
} from '../../src/mm/vm-flags.js';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { readVmCounters, VmCounters, writeStatus } from '../../src/procfs/status-text.js';
import { Rng } from '../differential/rng.js';
import { context, globals, rcu } from './strategies/helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE = 0x100000000000;
const MREMAP_MAYMOVE = 1;
const MREMAP_FIXED = 2;

function freshMm(): MmStruct {
  return MmStruct.create({ globals, grace: rcu, maxVmas: 1024 });
}

/** VmPeak and VmSize of `mm`'s status, in kB. */
function peak(mm: MmStruct): { peak: number; size: number } {
  const v = new VmCounters();
  readVmCounters(context(), mm, v);
  const sink = new ByteSink();
  writeStatus(sink, { pid: 1, ppid: 0, comm: 'x' }, mm, v);
  const t = sink.toLatin1();
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(t)![1]);
  return { peak: kb('VmPeak'), size: kb('VmSize') };
}

test('VmPeak: growth is lazy, an unmap records the total it lowers', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x100000, RW, ANON | MAP_FIXED), BASE);
  assert.deepEqual(peak(mm), { peak: 1024, size: 1024 }, 'max(hiwater_vm 0, total_vm)');
  assert.equal(mm.hiwaterVm, 0, 'mapping does not touch hiwater_vm');
  assert.equal(munmap(mm, BASE + 0x80000, 0x80000), 0);
  assert.deepEqual(peak(mm), { peak: 1024, size: 512 });
  // An unmap of nothing does not update it (vms_complete_munmap_vmas returns early).
  assert.equal(mmap(mm, BASE + 0x200000, 0x200000, RW, ANON | MAP_FIXED), BASE + 0x200000);
  assert.equal(munmap(mm, BASE + 0x800000, 0x1000), 0);
  assert.equal(mm.hiwaterVm, 256, 'still the first unmap mark (pages)');
  assert.deepEqual(peak(mm), { peak: 2560, size: 2560 });
});

test('VmPeak: MAP_FIXED over a mapping records the total before the new VMA is counted', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x10000, RW, ANON | MAP_FIXED), BASE);
  // Replaces 64 kB with 128 kB: the kernel unmaps first, then accounts the new VMA.
  assert.equal(mmap(mm, BASE, 0x20000, PROT_READ, ANON | MAP_FIXED), BASE);
  assert.equal(mm.hiwaterVm * 4, 64, 'hiwater_vm = total_vm before the call');
  assert.deepEqual(peak(mm), { peak: 128, size: 128 });
  assert.equal(munmap(mm, BASE, 0x20000), 0);
  assert.deepEqual(peak(mm), { peak: 128, size: 0 });
});

test('VmPeak: mremap keeps it across a move, a shrink and a FIXED target raise it', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x4000, RW, ANON | MAP_FIXED), BASE);
  assert.equal(mmap(mm, BASE + 0x5000, 0x1000, RW, ANON | MAP_FIXED), BASE + 0x5000);
  // Cannot grow in place (the next VMA is in the way): moves. For a moment total_vm counted
  // both copies (80 kB): move_vma() puts hiwater_vm back.
  const moved = mremap(mm, BASE, 0x4000, 0x10000, MREMAP_MAYMOVE, 0);
  assert.ok(moved > 0 && moved !== BASE);
  assert.equal(mm.hiwaterVm, 0);
  assert.deepEqual(peak(mm), { peak: 68, size: 68 });
  // Shrinking in place unmaps the tail: the total before it is recorded.
  assert.equal(mremap(mm, moved, 0x10000, 0x8000, 0, 0), moved);
  assert.deepEqual(peak(mm), { peak: 68, size: 36 });
  // A FIXED move onto the 4 kB VMA unmaps it first (hiwater 36 kB < 68: no change).
  assert.equal(
    mremap(mm, moved, 0x8000, 0x8000, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 0x5000),
    BASE + 0x5000,
  );
  assert.deepEqual(peak(mm), { peak: 68, size: 32 });
});

test('VmPeak: brk shrink records, a fork child starts at its own total', () => {
  const mm = freshMm();
  mm.startBrk = mm.brk = 0x10000000;
  assert.equal(brk(mm, 0x10000000 + 0x40000), 0x10000000 + 0x40000);
  assert.equal(mmap(mm, BASE, 0x10000, RW, ANON | MAP_FIXED), BASE);
  assert.equal(brk(mm, 0x10000000 + 0x10000), 0x10000000 + 0x10000);
  assert.deepEqual(peak(mm), { peak: 320, size: 128 });
  const child = forkMm(mm);
  try {
    assert.deepEqual(peak(child), { peak: 128, size: 128 }, 'dup_mm: hiwater_vm = total_vm');
    assert.equal(munmap(child, BASE, 0x10000), 0);
    assert.deepEqual(peak(child), { peak: 128, size: 64 });
  } finally {
    exitMm(child);
  }
});

test('total_vm stays the pages the VMAs cover through random syscalls', () => {
  const rng = new Rng(12);
  const mm = freshMm();
  const page = () => BASE + rng.int(0, 255) * 0x1000;
  const len = () => (1 + rng.int(0, 31)) * 0x1000;
  for (let i = 0; i < 3000; i++) {
    const k = rng.int(0, 4);
    if (k === 0) mmap(mm, page(), len(), RW, ANON | MAP_FIXED);
    else if (k === 1) munmap(mm, page(), len());
    else if (k === 2) mprotect(mm, page(), len(), rng.chance(0.5) ? PROT_READ : RW);
    else if (k === 3) mremap(mm, page(), len(), len(), MREMAP_MAYMOVE, 0);
    else mmap(mm, 0, len(), RW, ANON);
    let covered = 0;
    for (let id = mm.findVma(0); id !== 0; id = mm.findVma(mm.vmas.end(id))) {
      covered += (mm.vmas.end(id) - mm.vmas.start(id)) / 0x1000;
    }
    assert.equal(mm.totalVm, covered, `after op ${i} (kind ${k})`);
    assert.ok(mm.hiwaterVm <= 2 ** 20 && peak(mm).peak >= peak(mm).size);
  }
  assert.ok(mm.hiwaterVm > 0, 'unmaps happened');
});
