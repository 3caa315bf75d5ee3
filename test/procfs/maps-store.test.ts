/**
 * The readers on the real shared-memory store: names chosen from the live mm (brk, start_stack,
 * special ops, anon names), and chunked reads resuming by last_pos while syscalls change the mm
 * between chunks (the same walker object reused across chunks, as a strategy does).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importMaps } from '../../src/mm/import-maps.js';
import { MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { prctlSetVmaAnonName } from '../../src/mm/syscalls/anon-name.js';
import { brk } from '../../src/mm/syscalls/brk.js';
import { mmap } from '../../src/mm/syscalls/mmap.js';
import { mprotect } from '../../src/mm/syscalls/mprotect.js';
import { munmap } from '../../src/mm/syscalls/munmap.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED } from '../../src/mm/vm-flags.js';
import { MapsCursor, readWholeMaps } from '../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../src/procfs/vma-capture.js';
import { readFixture, sameText } from './fake-vmas.js';

const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 1024 });
const load = (name: string) => importMaps(readFixture(name), { globals, maxVmas: 4096 });
const text = (mm: MmStruct) => Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
const lineAt = (t: string, addr: number) =>
  t.split('\n').find((l) => l.startsWith(`${addr.toString(16).padStart(8, '0')}-`));

test('names follow the live mm: brk growth extends [heap], anon names, shared anon', () => {
  const mm = load('bash.maps');
  const oldBrk = mm.brk;
  assert.equal(brk(mm, oldBrk + 0x10000), oldBrk + 0x10000);
  const heapLine = lineAt(text(mm), mm.startBrk);
  assert.ok(heapLine?.endsWith(' [heap]'));
  assert.ok(heapLine?.includes(`-${(oldBrk + 0x10000).toString(16)} `));

  const a = mmap(mm, 0, 0x3000, 3, MAP_PRIVATE | MAP_ANONYMOUS);
  assert.ok(a > 0);
  assert.equal(prctlSetVmaAnonName(mm, a + 0x1000, 0x1000, 'my buf'), 0);
  const t = text(mm);
  assert.equal(
    lineAt(t, a + 0x1000),
    `${(a + 0x1000).toString(16)}-${(a + 0x2000).toString(16)} rw-p 00000000 00:00 0${' '.repeat(26)}[anon:my buf]`,
  );
  assert.ok(lineAt(t, a)?.endsWith('00:00 0 '));

  const s = mmap(mm, 0, 0x2000, 3, MAP_SHARED | MAP_ANONYMOUS);
  assert.ok(s > 0);
  assert.match(lineAt(text(mm), s) ?? '', / rw-s 00000000 00:01 \d+ +\/dev\/zero \(deleted\)$/);
});

/** Chunk 1, then `change`, then the rest, with one cursor and one walker throughout. */
function readAcross(mm: MmStruct, limit: number, change: (lastShownEnd: number) => void) {
  const cursor = new MapsCursor(limit);
  const walker = directMapsWalker(mm);
  assert.ok(cursor.readChunk(walker) > 0);
  const first = Buffer.from(cursor.chunk()).toString('latin1');
  const lastLine = first.trimEnd().split('\n').pop() ?? '';
  const lastShownEnd = Number.parseInt(lastLine.split('-')[1], 16);
  change(lastShownEnd);
  let rest = '';
  while (cursor.readChunk(walker) > 0) rest += Buffer.from(cursor.chunk()).toString('latin1');
  return { first, rest, lastShownEnd };
}

/** The 6.17+ rule: after a change, the next chunk shows the lines of VMAs ending above last_pos. */
function expectedRest(mm: MmStruct, lastShownEnd: number): string {
  return text(mm)
    .split('\n')
    .filter(
      (l) =>
        l !== '' &&
        (l.startsWith('ffffffffff600000') || Number.parseInt(l.split('-')[1], 16) > lastShownEnd),
    )
    .map((l) => `${l}\n`)
    .join('');
}

test('chunks resume from last_pos across munmap, mprotect split and MAP_FIXED between chunks', () => {
  for (const limit of [700, 1500, 3000]) {
    // munmap of the VMA that did not fit.
    let mm = load('java24-host.maps');
    let r = readAcross(mm, limit, (end) => {
      const next = mm.findVma(end);
      assert.equal(munmap(mm, mm.vmas.start(next), mm.vmas.end(next) - mm.vmas.start(next)), 0);
    });
    sameText(r.rest, expectedRest(mm, r.lastShownEnd));

    // mprotect splits the last shown VMA: its tail appears as a new line after last_pos.
    mm = load('java24-host.maps');
    r = readAcross(mm, limit, (end) => {
      const last = mm.findVma(end - 1);
      const size = mm.vmas.end(last) - mm.vmas.start(last);
      if (size >= 0x2000) assert.equal(mprotect(mm, end - 0x1000, 0x1000, 0), 0);
    });
    sameText(r.rest, expectedRest(mm, r.lastShownEnd));

    // A new mapping right at last_pos (MAP_FIXED over whatever is there).
    mm = load('java24-host.maps');
    r = readAcross(mm, limit, (end) => {
      assert.equal(mmap(mm, end, 0x1000, 1, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), end);
    });
    assert.ok(r.rest.startsWith(`${r.lastShownEnd.toString(16).padStart(8, '0')}-`));
    sameText(r.rest, expectedRest(mm, r.lastShownEnd));
  }
});

test('get_vma_name precedence on the store: file > ops name > heap > stack > anon name', () => {
  const gate =
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n';
  const pad = (p: string, n: string) => `${`${p} `.padEnd(73)}${n}\n`;
  const mm = importMaps(
    pad('10000000-10001000 r--p 00000000 fe:00 5', '/lib/a') +
      pad('10001000-10002000 r-xp 00000000 00:00 0', '[vdso]') +
      pad('10002000-10003000 rw-p 00000000 00:00 0', '[anon:x]') +
      pad('10003000-10004000 rw-p 00000000 00:00 0', '[anon:y]') +
      gate,
    { globals, maxVmas: 64 },
  );
  const names = () =>
    text(mm)
      .split('\n')
      .slice(0, 4)
      .map((l) => l.slice(73));
  assert.deepEqual(names(), ['/lib/a', '[vdso]', '[anon:x]', '[anon:y]']);
  // A heap range over everything: only the anonymous VMAs become [heap] (file and ops win).
  mm.startBrk = 0x10000000;
  mm.brk = 0x10004000;
  assert.deepEqual(names(), ['/lib/a', '[vdso]', '[heap]', '[heap]']);
  // start_stack at the boundary of the last two: heap still wins over stack.
  mm.startStack = 0x10003000;
  assert.deepEqual(names(), ['/lib/a', '[vdso]', '[heap]', '[heap]']);
  // Heap rule is strict: brk == start of the 3rd VMA leaves it out; the stack rule is inclusive.
  mm.brk = 0x10002000;
  assert.deepEqual(names(), ['/lib/a', '[vdso]', '[stack]', '[stack]']);
  mm.startStack = 0x10004000;
  assert.deepEqual(names(), ['/lib/a', '[vdso]', '[anon:x]', '[stack]']);
});
