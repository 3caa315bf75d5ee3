/**
 * The maps line memo (src/procfs/maps-line-memo.ts): a read copies a line from the memo only when
 * every field the line prints is the same as when it was formatted. Each case below changes one
 * key field of one VMA between two reads and expects the freshly formatted bytes, so a memo that
 * ignored that field would hand out the old line and fail here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteSink } from '../../src/procfs/byte-sink.js';
import { asciiBytes } from '../../src/procfs/hex.js';
import { writeMapsLine } from '../../src/procfs/maps-line.js';
import { MapsLineMemo } from '../../src/procfs/maps-line-memo.js';
import { MEMO_BUDGET_BYTES, memoBytesHeld } from '../../src/procfs/maps-memo-budget.js';
import {
  NAME_ANON,
  NAME_ANON_SHMEM,
  NAME_HEAP,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
  NAME_STACK,
} from '../../src/procfs/vma-name.js';
import { VmaView } from '../../src/procfs/vma-view.js';

const PAGE = 4096;

function anon(start: number, pages: number, flags = 0x3): VmaView {
  const v = new VmaView();
  v.id = 1;
  v.start = start;
  v.end = start + pages * PAGE;
  v.flags = flags;
  return v;
}

/** A file VMA whose path is `src[from, to)`. */
function file(start: number, src: Uint8Array, from: number, to: number, serial = 5): VmaView {
  const v = anon(start, 2, 0x5);
  v.hasFile = true;
  v.pgoff = 3;
  v.devMajor = 0xfe;
  v.devMinor = 1;
  v.inode = 123456;
  v.fileId = 2;
  v.fileSerial = serial;
  v.nameKind = NAME_PATH;
  v.nameSrc = src;
  v.nameFrom = from;
  v.nameTo = to;
  return v;
}

/** One read of `views` through `memo` in chunks of `limit` bytes (0: one chunk), as lines. */
function readThrough(memo: MapsLineMemo, views: VmaView[], limit = 0): string {
  const out: string[] = [];
  let i = 0;
  let first = true;
  while (i < views.length) {
    const sink = new ByteSink(64);
    memo.beginChunk(first);
    first = false;
    for (; i < views.length; i++) {
      const mark = sink.length;
      memo.write(sink, views[i]);
      if (limit > 0 && mark > 0 && sink.length >= limit) {
        memo.drop(mark);
        sink.length = mark;
        break;
      }
      memo.keep(sink, views[i]);
    }
    memo.endChunk(sink);
    out.push(sink.toLatin1());
  }
  return out.join('');
}

function fresh(views: VmaView[]): string {
  const sink = new ByteSink(64);
  for (const v of views) writeMapsLine(sink, v);
  return sink.toLatin1();
}

function copyOf(v: VmaView): VmaView {
  const c = new VmaView();
  c.copyFrom(v);
  return c;
}

const PATHS = asciiBytes('/usr/lib/liba.so/usr/lib/libb.so');

/** Each case: a name and a change to one printed field of the middle VMA. */
const CHANGES: [string, (v: VmaView) => void][] = [
  ['start', (v) => (v.start -= PAGE)],
  ['end', (v) => (v.end += PAGE)],
  ['flag VM_READ', (v) => (v.flags ^= 0x1)],
  ['flag VM_WRITE', (v) => (v.flags ^= 0x2)],
  ['flag VM_EXEC', (v) => (v.flags ^= 0x4)],
  ['flag VM_MAYSHARE', (v) => (v.flags ^= 0x80)],
  ['pgoff', (v) => (v.pgoff += 1)],
  ['device major', (v) => (v.devMajor = 8)],
  ['device minor', (v) => (v.devMinor = 2)],
  ['inode', (v) => (v.inode += 1)],
  ['deleted', (v) => (v.deleted = true)],
  ['name start', (v) => (v.nameFrom = 1)],
  ['name end', (v) => (v.nameTo -= 1)],
  ['name bytes array', (v) => (v.nameSrc = asciiBytes('/usr/lib/libc.so'))],
  [
    // The FileTable reuses an entry's offsets for another file after a grace period; only the
    // serial tells the two apart.
    'file serial (same offsets, other bytes)',
    (v) => {
      v.nameSrc[12] = 0x7a; // "libz", in place
      v.fileSerial += 1;
    },
  ],
  ['file (flag only)', (v) => (v.hasFile = false)],
  [
    'no file',
    (v) => {
      v.hasFile = false;
      v.nameKind = NAME_NONE;
    },
  ],
  [
    'name kind (path -> heap)',
    (v) => {
      v.hasFile = false;
      v.nameKind = NAME_HEAP;
    },
  ],
];

for (const limit of [0, 150]) {
  for (const [what, change] of CHANGES) {
    test(`memo (chunks ${limit || 'none'}): a changed ${what} is formatted afresh`, () => {
      // The serial case mutates its bytes: give every case its own array.
      const src = PATHS.slice();
      const views = [anon(0x1000, 1), file(0x10000, src, 0, 16), anon(0x40000, 3, 0x7)];
      const memo = new MapsLineMemo();
      assert.equal(readThrough(memo, views, limit), fresh(views));
      assert.equal(readThrough(memo, views, limit), fresh(views), 'unchanged: copied');
      const before = fresh(views);
      const changed = views.map(copyOf);
      change(changed[1]);
      const expect = fresh(changed);
      assert.notEqual(expect, before, 'the change shows in the line');
      assert.equal(readThrough(memo, changed, limit), expect);
      assert.equal(readThrough(memo, changed, limit), expect, 'again, from the rewritten memo');
      assert.equal(readThrough(memo, views, limit), fresh(views), 'and back');
    });
  }
}

test('memo: heap, stack, special and anonymous names are copied while they print the same', () => {
  const vdso = asciiBytes('[vdso]');
  const vvar = asciiBytes('[vvar]');
  const heap = anon(0x5000, 2);
  heap.nameKind = NAME_HEAP;
  const special = anon(0x9000, 1, 0x5);
  special.nameKind = NAME_SPECIAL;
  special.nameSrc = vdso;
  special.nameTo = vdso.length;
  const named = anonNamed(0x20000, 'one');
  const views = [heap, special, named, anon(0x30000, 1)];
  const memo = new MapsLineMemo();
  assert.equal(readThrough(memo, views), fresh(views));
  const before = memo.hits;
  assert.equal(readThrough(memo, views), fresh(views));
  assert.equal(memo.hits - before, views.length, 'every line, the anon-named one too, was copied');
  heap.nameKind = NAME_STACK;
  special.nameSrc = vvar;
  assert.equal(readThrough(memo, views), fresh(views));
  assert.match(readThrough(memo, views), /\[stack\]\n.*\[vvar\]\n.*\[anon:one\]\n/);
});

/** An anonymous VMA named `name`, its bytes in the view's own buffer (as captured with a copy). */
function anonNamed(start: number, name: string, kind = NAME_ANON): VmaView {
  const v = anon(start, 1);
  v.nameKind = kind;
  v.nameSrc = v.ownName;
  v.ownName.set(asciiBytes(name));
  v.nameTo = name.length;
  return v;
}

/**
 * An anon name's storage is reused at once for another name (anon-names.ts), at the same place:
 * the same array and offsets with other bytes. Each change below keeps every other field.
 */
const ANON_NAME_CHANGES: [string, (v: VmaView) => void][] = [
  ['renamed in place, same length', (v) => v.ownName.set(asciiBytes('two'))],
  ['one byte changed', (v) => (v.ownName[2] = 0x66)],
  ['longer name, same prefix', (v) => (v.nameTo = 4)],
  ['shorter name, same prefix', (v) => (v.nameTo = 2)],
  ['same bytes elsewhere in the array', (v) => (v.nameFrom = 1)],
  [
    'anon_shmem instead of anon',
    (v) => {
      v.nameKind = NAME_ANON_SHMEM;
      v.hasFile = true;
    },
  ],
  ['no name any more', (v) => (v.nameKind = NAME_NONE)],
];

for (const limit of [0, 120]) {
  for (const [what, change] of ANON_NAME_CHANGES) {
    test(`memo (chunks ${limit || 'none'}): an anon name ${what} is formatted afresh`, () => {
      const named = anonNamed(0x20000, 'onex');
      named.nameTo = 3; // "one", with a spare byte after it
      const views = [anon(0x1000, 1), named, anon(0x40000, 2)];
      const memo = new MapsLineMemo();
      readThrough(memo, views, limit);
      assert.equal(readThrough(memo, views, limit), fresh(views));
      change(named);
      assert.equal(readThrough(memo, views, limit), fresh(views), what);
      assert.equal(readThrough(memo, views, limit), fresh(views), `${what}, read again`);
    });
  }
}

test('memo: lines inserted and removed between reads', () => {
  const src = PATHS.slice();
  const all = [anon(0x1000, 1), file(0x10000, src, 0, 16), anon(0x40000, 3), anon(0x50000, 1)];
  const memo = new MapsLineMemo();
  for (const views of [all, all.slice(1), all, [all[0], all[2]], all, all.slice(0, 2), all]) {
    assert.equal(readThrough(memo, views, 100), fresh(views));
  }
});

test('memo: a chunk rolled back (never ended) is read again from the last chunk that ended', () => {
  const views = [anon(0x1000, 1), anon(0x3000, 1), anon(0x5000, 1)];
  const memo = new MapsLineMemo();
  readThrough(memo, views);
  memo.beginChunk(true);
  const sink = new ByteSink(64);
  memo.write(sink, views[0]);
  memo.keep(sink, views[0]);
  // ReadWouldWait: this chunk is abandoned; the read starts again (position 0).
  views[1].flags = 0x1;
  assert.equal(readThrough(memo, views), fresh(views));
});

test('memo: a 65,000-line file is memoised whole (growth near the budget takes what it needs)', () => {
  // ~95 bytes a line: 6 MB of text, past the 4 MB step where doubling both arrays would not fit.
  const src = PATHS.slice();
  const many = Array.from({ length: 65_000 }, (_, i) =>
    file(0x7f00_0000_0000 + i * 3 * PAGE, src, 0, 16),
  );
  const memo = new MapsLineMemo();
  assert.equal(readThrough(memo, many, 4096), fresh(many));
  assert.equal(memo.entries, many.length);
  assert.ok(memo.heldBytes <= MEMO_BUDGET_BYTES);
  assert.equal(readThrough(memo, many, 4096), fresh(many));
  memo.release();
});

test('memo: the thread budget bounds what all memos hold', () => {
  const big = Array.from({ length: 40_000 }, (_, i) => anon(0x10000 + i * 2 * PAGE, 1));
  const memos = Array.from({ length: 12 }, () => new MapsLineMemo());
  for (const m of memos) assert.equal(readThrough(m, big), fresh(big));
  assert.ok(memoBytesHeld() <= MEMO_BUDGET_BYTES, `${memoBytesHeld()} B held`);
  // The least recently read were emptied; the last one read still copies.
  assert.equal(memos[0].heldBytes, 0);
  assert.ok(memos[11].heldBytes > 0);
  assert.equal(readThrough(memos[0], big), fresh(big));
  for (const m of memos) m.release();
  assert.equal(memoBytesHeld(), 0);
});

test('memo: two memos that do not fit the budget together, read in turn, do not empty each other', () => {
  // Lines of ~320 bytes (a long path) plus their keys: each memo needs ~60% of the budget.
  const path = asciiBytes(`/opt/${'x'.repeat(240)}.so`);
  const lines = Math.ceil((0.6 * MEMO_BUDGET_BYTES) / (320 + 68));
  const layout = (base: number) =>
    Array.from({ length: lines }, (_, i) => file(base + i * 3 * PAGE, path, 0, path.length));
  const a = layout(0x7f00_0000_0000);
  const b = layout(0x7e00_0000_0000);
  const [textA, textB] = [fresh(a), fresh(b)];
  const ma = new MapsLineMemo();
  const mb = new MapsLineMemo();
  assert.equal(readThrough(ma, a), textA);
  assert.equal(ma.entries, lines);
  // b's first read may empty a (least recently read first).
  assert.equal(readThrough(mb, b), textB);
  assert.equal(mb.entries, lines);
  assert.equal(ma.entries, 0);
  for (let round = 0; round < 3; round++) {
    // b was read since a's previous read: it stays; a keeps the prefix that fits beside it.
    assert.equal(readThrough(ma, a), textA);
    assert.equal(mb.entries, lines, `round ${round}: b kept`);
    assert.ok(ma.entries > 0 && ma.entries < lines, `round ${round}: a holds ${ma.entries}`);
    assert.equal(readThrough(mb, b), textB);
    assert.equal(mb.entries, lines);
    assert.ok(memoBytesHeld() <= MEMO_BUDGET_BYTES, `${memoBytesHeld()} B held`);
  }
  ma.release();
  mb.release();
  assert.equal(memoBytesHeld(), 0);
});
