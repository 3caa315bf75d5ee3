/**
 * smaps, smaps_rollup and the status memory lines on the real store: the kernel's field order
 * and widths (values from page counts, as smaps_account sums them), VmFlags mnemonics with the
 * engine's bookkeeping bits hidden, ProtectionKey only on PKU machines, chunks of whole blocks
 * resuming by address like maps, the rollup's relock when a writer waits, and the status
 * counters following the syscalls. (Byte equality with the host kernel: test/differential.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmStruct, SYNC_WORDS_BASE } from '../../src/mm/mm-struct.js';
import { newPageCounts } from '../../src/mm/pages/page-counts.js';
import { populateVma } from '../../src/mm/syscalls/index.js';
import { mmap } from '../../src/mm/syscalls/mmap.js';
import { mprotect } from '../../src/mm/syscalls/mprotect.js';
import { mremap } from '../../src/mm/syscalls/mremap.js';
import { munmap } from '../../src/mm/syscalls/munmap.js';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_GROWSDOWN,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '../../src/mm/vm-flags.js';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { writeRollup, writeSmapsBlock } from '../../src/procfs/smaps-block.js';
import { readSmapsChunk, readSmapsRollup } from '../../src/procfs/smaps-text.js';
import { readVmCounters, VmCounters, writeStatus } from '../../src/procfs/status-text.js';
import { captureVma } from '../../src/procfs/vma-capture.js';
import { VmaView } from '../../src/procfs/vma-view.js';
import { MMAP_LOCK_STATE } from '../../src/sync/layout.js';
import { context, globals, rcu, templateMm } from './strategies/helpers.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const BASE = 0x100000000000;

function freshMm(pkeys = false): MmStruct {
  const mm = MmStruct.create({ globals, grace: rcu, maxVmas: 1024, pkeys });
  return mm;
}

function block(mm: MmStruct, addr: number, counts = newPageCounts()): string {
  const view = new VmaView();
  captureVma(mm, mm.vmaLookup(addr), view);
  const sink = new ByteSink();
  writeSmapsBlock(sink, view, counts, mm.pkeys, 0);
  return sink.toLatin1();
}

function smapsText(mm: MmStruct, limit = 0): { text: string; chunks: string[] } {
  const ctx = context();
  ctx.position.rewind();
  const chunks: string[] = [];
  for (;;) {
    ctx.sink.clear();
    const n = readSmapsChunk(ctx, mm, ctx.position, limit, ctx.sink);
    if (n <= 0) break;
    chunks.push(ctx.sink.toLatin1());
  }
  return { text: chunks.join(''), chunks };
}

test('a block: the maps line, 23 fields in order and widths, THPeligible, VmFlags', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x3000, RW, ANON | MAP_FIXED), BASE);
  const c = newPageCounts();
  c.resident = 3 * 4096;
  c.privateDirty = 2 * 4096;
  c.sharedClean = 4096;
  c.anonymous = 2 * 4096;
  c.referenced = 3 * 4096;
  // Two exclusive pages and one mapped 3 times: (2 << 24) + floor((1 << 24) / 3), truncated.
  c.pss = 2 * 2 ** 24 + Math.floor(2 ** 24 / 3);
  c.pssDirty = 2 * 2 ** 24;
  c.privateHugetlb = 123_456_789 * 1024; // wider than the 7 columns: never truncated
  const lines = block(mm, BASE, c).split('\n');
  assert.deepEqual(lines, [
    `100000000000-100000003000 rw-p 00000000 00:00 0 `,
    'Size:                 12 kB',
    'KernelPageSize:        4 kB',
    'MMUPageSize:           4 kB',
    'Rss:                  12 kB',
    'Pss:                   9 kB',
    'Pss_Dirty:             8 kB',
    'Shared_Clean:          4 kB',
    'Shared_Dirty:          0 kB',
    'Private_Clean:         0 kB',
    'Private_Dirty:         8 kB',
    'Referenced:           12 kB',
    'Anonymous:             8 kB',
    'KSM:                   0 kB',
    'LazyFree:              0 kB',
    'AnonHugePages:         0 kB',
    'ShmemPmdMapped:        0 kB',
    'FilePmdMapped:         0 kB',
    'Shared_Hugetlb:        0 kB',
    'Private_Hugetlb: 123456789 kB',
    'Swap:                  0 kB',
    'SwapPss:               0 kB',
    'Locked:                0 kB',
    'THPeligible:           0',
    'VmFlags: rd wr mr mw me ac ',
    '',
  ]);
});

test('VmFlags: shared, growsdown, noreserve spelled as the kernel; anon_vma bits hidden', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x2000, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED), BASE);
  assert.match(block(mm, BASE), /\nVmFlags: rd wr sh mr mw me ms \n$/);
  assert.equal(
    mmap(mm, BASE + 0x10000, 0x2000, RW, ANON | MAP_FIXED | MAP_GROWSDOWN),
    BASE + 0x10000,
  );
  assert.match(block(mm, BASE + 0x10000), /\nVmFlags: rd wr mr mw me gd ac \n$/);
  // A populated VMA carries the engine's anon_vma bits (VM_MAYBE_GUARD...): not printed.
  const id = mm.vmaLookup(BASE + 0x10000);
  populateVma(mm, id);
  assert.notEqual(mm.vmas.flags(id) & 0x800, 0);
  assert.match(block(mm, BASE + 0x10000), /\nVmFlags: rd wr mr mw me gd ac \n$/);
});

test('ProtectionKey only with protection keys: 1 on an execute-only VMA, 0 elsewhere', () => {
  const pku = freshMm(true);
  assert.equal(mmap(pku, BASE, 0x1000, PROT_EXEC, ANON | MAP_FIXED), BASE);
  assert.equal(mmap(pku, BASE + 0x4000, 0x1000, PROT_READ, ANON | MAP_FIXED), BASE + 0x4000);
  assert.match(
    block(pku, BASE),
    /\nTHPeligible: {11}0\nProtectionKey: {9}1\nVmFlags: ex mr mw me \n$/,
  );
  assert.match(block(pku, BASE + 0x4000), /\nProtectionKey: {9}0\nVmFlags: rd mr mw me \n$/);
  const plain = freshMm(false);
  assert.equal(mmap(plain, BASE, 0x1000, PROT_EXEC, ANON | MAP_FIXED), BASE);
  assert.doesNotMatch(block(plain, BASE), /ProtectionKey/);
  // The gate block is there on both, with ProtectionKey only on the PKU one.
  assert.match(
    smapsText(pku).text,
    /\[vsyscall\]\n(.*\n){22}THPeligible: {11}0\nProtectionKey: {9}0\nVmFlags: ex \n$/,
  );
});

test('chunks are whole blocks below the read size, and concatenate to the whole file', () => {
  const mm = templateMm('bash');
  const whole = smapsText(mm, 0);
  assert.equal(whole.chunks.length, 1);
  const blocks = whole.text.split(/(?=^[0-9a-f]+-[0-9a-f]+ )/m);
  assert.equal(blocks.length, mm.mapCount + 1); // + the gate
  for (const limit of [1, 4096, 10_000]) {
    const r = smapsText(mm, limit);
    assert.equal(r.text, whole.text, `limit ${limit}`);
    for (const c of r.chunks) {
      assert.match(c, /^[0-9a-f]+-[0-9a-f]+ [\s\S]*VmFlags: [a-z ]*\n$/);
      if (limit > 1 && c.split('VmFlags').length > 2) assert.ok(c.length < limit, `${c.length}`);
    }
    if (limit === 1) assert.equal(r.chunks.length, blocks.length);
  }
});

test('a chunk resumes by address: a change between two reads shows in the next chunk', () => {
  const mm = freshMm();
  for (let i = 0; i < 8; i++) {
    assert.equal(
      mmap(mm, BASE + i * 0x2000, 0x1000, i % 2 ? RW : PROT_READ, ANON | MAP_FIXED),
      BASE + i * 0x2000,
    );
  }
  const ctx = context();
  ctx.position.rewind();
  ctx.sink.clear();
  assert.ok(readSmapsChunk(ctx, mm, ctx.position, 2000, ctx.sink) > 0);
  const first = ctx.sink.toLatin1();
  assert.equal(first.split('VmFlags').length - 1, 2);
  // Unmap the third VMA (the one that did not fit) between the reads: the next read starts after it.
  assert.equal(munmap(mm, BASE + 0x4000, 0x1000), 0);
  ctx.sink.clear();
  readSmapsChunk(ctx, mm, ctx.position, 2000, ctx.sink);
  assert.ok(ctx.sink.toLatin1().startsWith('100000006000-100000007000 rw-p'));
});

test('smaps_rollup: first start to last end, [rollup] padded, the Pss_* lines', () => {
  const mm = templateMm('minimal');
  const ctx = context();
  const sink = new ByteSink();
  readSmapsRollup(ctx, mm, sink);
  const text = sink.toLatin1();
  const first = mm.vmas.start(mm.findVma(0));
  const last = mm.vmas.end(mm.findVmaPrev(2 ** 47));
  const head = `${first.toString(16)}-${last.toString(16)} ---p 00000000 00:00 0`;
  assert.equal(text.split('\n')[0], `${head.padEnd(72)} [rollup]`);
  assert.deepEqual(
    text
      .split('\n')
      .slice(1, 8)
      .map((l) => l.split(':')[0]),
    ['Rss', 'Pss', 'Pss_Dirty', 'Pss_Anon', 'Pss_File', 'Pss_Shmem', 'Shared_Clean'],
  );
  assert.equal(text.split('\n').length, 1 + 22 + 1);
  assert.match(text, /\nLocked: {16}0 kB\n$/);
  // An mm with no VMA: 0-0.
  const empty = new ByteSink();
  writeRollup(empty, 0, 0, newPageCounts());
  assert.ok(
    empty
      .toLatin1()
      .startsWith(`${'00000000-00000000 ---p 00000000 00:00 0'.padEnd(72)} [rollup]\n`),
  );
});

test('smaps_rollup drops the mmap lock for a waiting writer and resumes from the last end', () => {
  const mm = freshMm();
  assert.equal(mmap(mm, BASE, 0x2000, RW, ANON | MAP_FIXED), BASE);
  assert.equal(mmap(mm, BASE + 0x10000, 0x1000, PROT_READ, ANON | MAP_FIXED), BASE + 0x10000);
  const state = SYNC_WORDS_BASE + MMAP_LOCK_STATE;
  let relocks = 0;
  const sink = new ByteSink();
  readSmapsRollup(context(), mm, sink, {
    afterVma(id) {
      // A writer queues on the lock (the waiting-writers field, bits 22..) after the first VMA.
      if (mm.vmas.start(id) === BASE) Atomics.add(mm.i32, state, 1 << 22);
    },
    onRelock() {
      relocks++;
      Atomics.sub(mm.i32, state, 1 << 22);
      // The "writer" grows the VMA just summed across the end the reader recorded (case 4).
      assert.equal(mremap(mm, BASE, 0x2000, 0x4000, 0, 0), BASE);
    },
  });
  assert.equal(relocks, 1);
  assert.ok(sink.toLatin1().startsWith('100000000000-100000011000 ---p'));
});

test('status: Vm lines follow the syscalls (size, data, stack, exec split, locked)', () => {
  const mm = freshMm();
  const v = new VmCounters();
  const status = () => {
    readVmCounters(context(), mm, v);
    const sink = new ByteSink();
    writeStatus(sink, { pid: 42, ppid: 7, comm: 'a\nb\\c' }, mm, v);
    return sink.toLatin1();
  };
  const field = (t: string, name: string) => t.split('\n').find((l) => l.startsWith(`${name}:`));
  assert.equal(mmap(mm, BASE, 0x100000, RW, ANON | MAP_FIXED), BASE);
  assert.equal(
    mmap(mm, BASE + 0x200000, 0x4000, PROT_READ | PROT_EXEC, ANON | MAP_FIXED),
    BASE + 0x200000,
  );
  assert.equal(
    mmap(mm, BASE + 0x300000, 0x8000, RW, ANON | MAP_FIXED | MAP_GROWSDOWN),
    BASE + 0x300000,
  );
  assert.equal(
    mmap(mm, BASE + 0x400000, 0x2000, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED),
    BASE + 0x400000,
  );
  let t = status();
  assert.equal(field(t, 'VmSize'), 'VmSize:\t    1080 kB');
  assert.equal(field(t, 'VmPeak'), 'VmPeak:\t    1080 kB');
  assert.equal(field(t, 'VmData'), 'VmData:\t    1024 kB');
  assert.equal(field(t, 'VmStk'), 'VmStk:\t      32 kB');
  assert.equal(field(t, 'VmLib'), 'VmLib:\t      16 kB');
  assert.equal(field(t, 'VmExe'), 'VmExe:\t       0 kB');
  // start_code/end_code cover the executable mapping: it is text, not a library.
  mm.startCode = BASE + 0x200000;
  mm.endCode = BASE + 0x203001;
  t = status();
  assert.equal(field(t, 'VmExe'), 'VmExe:\t      16 kB');
  assert.equal(field(t, 'VmLib'), 'VmLib:\t       0 kB');
  assert.equal(mprotect(mm, BASE, 0x80000, PROT_READ), 0);
  assert.equal(munmap(mm, BASE + 0x400000, 0x2000), 0);
  t = status();
  assert.equal(field(t, 'VmData'), 'VmData:\t     512 kB');
  assert.equal(field(t, 'VmSize'), 'VmSize:\t    1072 kB');
  assert.equal(field(t, 'Name'), 'Name:\ta\\nb\\\\c');
  assert.equal(field(t, 'PPid'), 'PPid:\t7');
  assert.equal(field(t, 'Pid'), 'Pid:\t42');
  assert.equal(field(t, 'VmRSS'), 'VmRSS:\t       0 kB');
  const names = t.split('\n').map((l) => l.split(':')[0]);
  assert.deepEqual(names.slice(17, 33), [
    'VmPeak', 'VmSize', 'VmLck', 'VmPin', 'VmHWM', 'VmRSS', 'RssAnon', 'RssFile', 'RssShmem',
    'VmData', 'VmStk', 'VmExe', 'VmLib', 'VmPTE', 'VmSwap', 'HugetlbPages',
  ]); // biome-ignore format: the kernel's order
  assert.equal(names.at(-2), 'nonvoluntary_ctxt_switches');
});
