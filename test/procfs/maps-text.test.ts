import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EINTR } from '../../src/mm/errno.js';
import { MapsCursor, type MapsWalker, readWholeMaps } from '../../src/procfs/maps-text.js';
import { NAME_ANON } from '../../src/procfs/vma-name.js';
import { VmaView } from '../../src/procfs/vma-view.js';
import {
  type FakeMm,
  fakeMmFromText,
  fakeWalker,
  prng,
  REAL_MAPS,
  readFixture,
} from './fake-vmas.js';

const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** Compares texts line by line (assert's diff of two long strings is very slow). */
function sameText(actual: string, expected: string, what = ''): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) assert.fail(`${what} line ${i + 1}: got ${a[i]} want ${e[i]}`);
  }
}

function chunksOf(mm: FakeMm, limit: number): string[] {
  const c = new MapsCursor(limit);
  const walker = fakeWalker(mm);
  const out: string[] = [];
  for (;;) {
    const n = c.readChunk(walker);
    assert.ok(n >= 0);
    if (n === 0) break;
    out.push(str(c.chunk()));
  }
  // EOF is sticky.
  assert.equal(c.readChunk(walker), 0);
  return out;
}

for (const name of REAL_MAPS) {
  test(`chunked ${name}: whole lines, each chunk < N, concatenation == the real file`, () => {
    const text = readFixture(name);
    const mm = fakeMmFromText(text);
    const lines = new Set(text.split('\n'));
    const rnd = prng(name.length);
    const sizes = [0, 1, 50, 100, 128, 300, 512, 1000, 4096, 65536];
    for (let i = 0; i < 10; i++) sizes.push(1 + Math.floor(rnd() * 3000));
    for (const n of sizes) {
      const chunks = chunksOf(mm, n);
      sameText(chunks.join(''), text, `N=${n}`);
      for (const ch of chunks) {
        assert.ok(ch.endsWith('\n'), `N=${n}: chunk does not end with a newline`);
        for (const l of ch.slice(0, -1).split('\n')) assert.ok(lines.has(l), `N=${n}: torn line`);
        const lineCount = ch.split('\n').length - 1;
        if (n > 0 && lineCount > 1) assert.ok(ch.length < n, `N=${n}: chunk of ${ch.length}`);
      }
      if (n === 0) assert.equal(chunks.length, 1);
    }
  });
}

/** 41-byte lines (8-digit addresses) and 43-byte lines (9-digit), all anonymous. */
function exactFitLayout(): FakeMm {
  const vmas: VmaView[] = [];
  const add = (start: number, flags: number) => {
    const v = new VmaView();
    v.id = vmas.length + 1;
    v.start = start;
    v.end = start + 4096;
    v.flags = flags;
    vmas.push(v);
  };
  for (let i = 0; i < 59; i++) add(0x10000 + i * 4096, i & 1 ? 1 : 3);
  for (let i = 0; i < 39; i++) add(0x100000000 + i * 4096, i & 1 ? 1 : 3);
  for (let i = 0; i < 20; i++) add(0x7f0000000000 + i * 8192, 3);
  return { vmas, hasGate: true };
}

test('a line that would end exactly at N starts the next chunk (host kernel: 4053 not 4096)', () => {
  // test/fixtures/capture: /tmp/chunk-edge-style layout. 59*41 + 39*43 = 4096 exactly; the host
  // kernel returned 4053 bytes for the first read(fd, buf, 4096) of this layout.
  const chunks = chunksOf(exactFitLayout(), 4096);
  assert.equal(59 * 41 + 39 * 43, 4096);
  assert.equal(chunks[0].length, 4096 - 43);
  assert.equal(chunks[1].split('\n')[0], '100026000-100027000 rw-p 00000000 00:00 0 ');
});

test('a line longer than N goes out alone; the gate line is last, then EOF', () => {
  const mm = fakeMmFromText(readFixture('bash.maps'));
  const chunks = chunksOf(mm, 30);
  assert.equal(chunks.length, mm.vmas.length + 1);
  for (const ch of chunks) assert.equal(ch.split('\n').length, 2);
  assert.ok(chunks[chunks.length - 1].endsWith('[vsyscall]\n'));
});

test('an mm without a gate VMA ends after its last VMA', () => {
  const mm = fakeMmFromText(readFixture('bash.maps'));
  mm.hasGate = false;
  const text = str(readWholeMaps(fakeWalker(mm), 200));
  sameText(text, readFixture('bash.maps').replace(/^ffffffffff600000.*\n/m, ''));
});

/** Reads chunk 1, applies `change`, reads the rest; returns [chunk1, rest]. */
function readAcrossChange(
  mm: FakeMm,
  limit: number,
  change: (first: string) => void,
): [string, string] {
  const c = new MapsCursor(limit);
  const walker = fakeWalker(mm);
  assert.ok(c.readChunk(walker) > 0);
  const first = str(c.chunk());
  change(first);
  let rest = '';
  while (c.readChunk(walker) > 0) rest += str(c.chunk());
  return [first, rest];
}

function expectedFrom(mm: FakeMm, after: number): string {
  // The 6.17+ rule: the next chunk shows every VMA whose end is above the end of the last VMA
  // shown, looked up again in the changed mm.
  const kept = { vmas: mm.vmas.filter((v) => v.end > after), hasGate: mm.hasGate };
  return str(readWholeMaps(fakeWalker(kept)));
}

const lastEnd = (chunk: string) =>
  Number.parseInt(chunk.trimEnd().split('\n').pop()!.split('-')[1], 16);

test('resumption after changes between chunks follows last_pos (6.17+)', () => {
  const base = fakeMmFromText(readFixture('java-host.maps'));
  const limit = 1000;

  // 1. The VMA that did not fit is unmapped: the next chunk starts with its successor.
  let mm: FakeMm = { vmas: base.vmas.slice(), hasGate: true };
  let [first, rest] = readAcrossChange(mm, limit, (first) => {
    const i = mm.vmas.findIndex((v) => v.end > lastEnd(first));
    mm.vmas.splice(i, 1);
  });
  let shownEnd = lastEnd(first);
  sameText(rest, expectedFrom(mm, shownEnd));
  assert.ok(!rest.startsWith(`${shownEnd.toString(16)}-`));

  // 2. The last shown VMA grows over its unshown successor (a merge): it is shown again,
  //    extended; the old successor is not shown.
  mm = { vmas: base.vmas.slice(), hasGate: true };
  [first, rest] = readAcrossChange(mm, limit, (first) => {
    const i = mm.vmas.findIndex((v) => v.end === lastEnd(first));
    const grown = new VmaView();
    grown.copyFrom(mm.vmas[i]);
    grown.end = mm.vmas[i + 1].end;
    mm.vmas.splice(i, 2, grown);
  });
  shownEnd = lastEnd(first);
  sameText(rest, expectedFrom(mm, shownEnd));
  const firstLines = first.trimEnd().split('\n');
  const dupStart = firstLines[firstLines.length - 1].split('-')[0];
  assert.ok(rest.startsWith(`${dupStart}-`), 'the merged VMA is reported twice');

  // 3. A new VMA appears in the gap right after the last shown one: it is shown next.
  mm = { vmas: base.vmas.slice(), hasGate: true };
  [first, rest] = readAcrossChange(mm, limit, (first) => {
    const end = lastEnd(first);
    const i = mm.vmas.findIndex((v) => v.end > end);
    assert.ok(mm.vmas[i].start >= end + 4096, 'fixture has a gap after the first chunk');
    const fresh = new VmaView();
    fresh.start = end;
    fresh.end = end + 4096;
    fresh.flags = 3;
    mm.vmas.splice(i, 0, fresh);
  });
  assert.ok(rest.startsWith(`${lastEnd(first).toString(16)}-`), 'the new VMA comes first');
  sameText(rest, expectedFrom(mm, lastEnd(first)));
});

test('rewind restarts from the first VMA', () => {
  const mm = fakeMmFromText(readFixture('cat.maps'));
  const c = new MapsCursor(500);
  const w = fakeWalker(mm);
  c.readChunk(w);
  const first = str(c.chunk());
  c.readChunk(w);
  c.rewind();
  c.readChunk(w);
  assert.equal(str(c.chunk()), first);
});

test('a lookup error: -errno on the first lookup; mid-chunk it ends the chunk early', () => {
  const mm = fakeMmFromText(readFixture('cat.maps'));
  const inner = fakeWalker(mm);
  let failAt = 0;
  let calls = 0;
  const walker: MapsWalker = {
    hasGate: true,
    next(from: number, view: VmaView) {
      calls++;
      return calls === failAt ? -EINTR : inner.next(from, view);
    },
  };
  failAt = 1;
  assert.equal(new MapsCursor(4096).readChunk(walker), -EINTR);
  calls = 0;
  failAt = 4;
  const c = new MapsCursor(4096);
  assert.ok(c.readChunk(walker) > 0);
  assert.equal(str(c.chunk()).split('\n').length - 1, 3);
  // The kernel keeps last_pos from the last successful fetch, so the third VMA is looked up
  // again from the position before it and shown a second time.
  assert.ok(c.readChunk(walker) > 0);
  assert.ok(str(c.chunk()).startsWith(readFixture('cat.maps').split('\n')[2]));
});

test('property: any layout, any N, any change between chunks follows the last_pos rule', () => {
  const layout = fc.array(
    fc.record({
      gap: fc.integer({ min: 0, max: 3 }),
      pages: fc.integer({ min: 1, max: 4 }),
      named: fc.boolean(),
    }),
    { minLength: 1, maxLength: 80 },
  );
  fc.assert(
    fc.property(
      layout,
      fc.integer({ min: 0, max: 3000 }),
      fc.integer({ min: 0, max: 2 }),
      fc.nat(),
      (spec, limit, kind, pick) => {
        const vmas: VmaView[] = [];
        let addr = 0x7f0000000000;
        for (const s of spec) {
          addr += s.gap * 4096;
          const v = new VmaView();
          v.start = addr;
          v.end = addr + s.pages * 4096;
          v.flags = vmas.length & 1 ? 1 : 3;
          if (s.named) {
            v.nameKind = NAME_ANON;
            v.nameSrc = Buffer.from(`n${vmas.length}`);
            v.nameTo = v.nameSrc.length;
          }
          addr = v.end;
          vmas.push(v);
        }
        const mm: FakeMm = { vmas, hasGate: true };
        const c = new MapsCursor(limit);
        const walker = fakeWalker(mm);
        assert.ok(c.readChunk(walker) > 0);
        const first = str(c.chunk());
        if (c.atEof) return;
        const shownLines = first
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith('ffffffffff600000'));
        const shownEnd = shownLines.length ? lastEnd(first) : 0;
        // Change the mm while no lock is held: drop, grow or insert around the next VMA.
        const i = mm.vmas.findIndex((v) => v.end > shownEnd);
        if (i >= 0) {
          const next = mm.vmas[i];
          if (kind === 0) mm.vmas.splice(i, 1);
          else if (kind === 1 && i > 0 && mm.vmas[i - 1].end === shownEnd) {
            const grown = new VmaView();
            grown.copyFrom(mm.vmas[i - 1]);
            grown.end = Math.max(next.start, grown.end);
            mm.vmas[i - 1] = grown;
          } else if (next.start > shownEnd) {
            const fresh = new VmaView();
            fresh.start = shownEnd + (pick % ((next.start - shownEnd) / 4096)) * 4096;
            fresh.end = fresh.start + 4096;
            fresh.flags = 7;
            mm.vmas.splice(i, 0, fresh);
          }
        }
        let rest = '';
        for (let n = c.readChunk(walker); n > 0; n = c.readChunk(walker)) {
          const ch = str(c.chunk());
          if (limit > 0 && ch.split('\n').length > 2) assert.ok(ch.length < limit);
          rest += ch;
        }
        sameText(rest, expectedFrom(mm, shownEnd));
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});
