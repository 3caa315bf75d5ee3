import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as L from '../../src/mm/arena-layout.js';

/** Byte ranges of every header field, from the exported word indexes. */
function headerFields(): Array<{ name: string; from: number; to: number }> {
  const out: Array<{ name: string; from: number; to: number }> = [];
  for (const [name, v] of Object.entries(L)) {
    if (typeof v !== 'number') continue;
    if (name.startsWith('I32_')) out.push({ name, from: v * 4, to: v * 4 + 4 });
    if (name.startsWith('F64_')) out.push({ name, from: v * 8, to: v * 8 + 8 });
  }
  out.push({
    name: 'SYNC_WORDS',
    from: L.SYNC_WORDS_BASE * 4,
    to: (L.SYNC_WORDS_BASE + L.SYNC_WORDS_COUNT) * 4,
  });
  return out;
}

describe('arena layout', () => {
  it('header fields do not overlap and fit in the header', () => {
    const f = headerFields().sort((a, b) => a.from - b.from);
    assert.ok(f.length > 30);
    for (let i = 1; i < f.length; i++) {
      assert.ok(f[i].from >= f[i - 1].to, `${f[i - 1].name} overlaps ${f[i].name}`);
    }
    assert.ok(f[f.length - 1].to <= L.HEADER_BYTES);
  });

  it('keeps the sync words and the index root on cache lines of their own', () => {
    const line = (byte: number) => Math.floor(byte / L.CACHE_LINE);
    const fields = headerFields();
    const syncLines = new Set<number>();
    for (let w = L.SYNC_WORDS_BASE; w < L.SYNC_WORDS_BASE + L.SYNC_WORDS_COUNT; w++) {
      syncLines.add(line(w * 4));
    }
    assert.equal((L.SYNC_WORDS_BASE * 4) % L.CACHE_LINE, 0);
    assert.equal((L.SYNC_WORDS_COUNT * 4) % L.CACHE_LINE, 0);
    const rootLine = line(L.I32_INDEX_ROOT * 4);
    for (const x of fields) {
      if (x.name === 'SYNC_WORDS') continue;
      assert.ok(!syncLines.has(line(x.from)), `${x.name} shares a sync line`);
      const shared = line(x.from) === rootLine;
      const allowed = x.name === 'I32_INDEX_ROOT' || x.name === 'I32_INDEX_COUNT';
      assert.ok(!shared || allowed, `${x.name} shares the index root's line`);
    }
  });

  it('sizes regions for max_map_count with slack and lays them out to share pages', () => {
    const g = L.computeGeometry(65_530);
    assert.ok(
      g.vmaCapacity - 1 >= 2 * 65_530,
      'a full address space can be rewritten in one grace period',
    );
    assert.ok(g.nodeCapacity > 65_530 / 7 + 1024);
    for (const base of [g.vmaBase, g.nodeBase, g.totalBytes]) {
      assert.equal(base % L.CACHE_LINE, 0);
    }
    assert.equal(g.retireBase % L.RETIRE_ENTRY_BYTES, 0);
    // Records right after the header (on page 0 with it); the ring ends where the nodes begin,
    // inside the pivot page, so the ring's front and the first nodes share that page.
    assert.equal(g.vmaBase, L.HEADER_BYTES);
    assert.ok(g.retireBase >= g.vmaBase + g.vmaCapacity * L.VMA_RECORD_BYTES);
    assert.equal(g.retireBase + L.RETIRE_ENTRY_BYTES * g.retireCapacity, g.nodeBase);
    assert.equal(g.nodeBase % L.PAGE_BYTES, L.PIVOT_OFFSET);
    assert.ok(L.PIVOT_OFFSET >= 16 * L.RETIRE_ENTRY_BYTES);
    assert.ok(L.PAGE_BYTES - L.PIVOT_OFFSET >= 8 * L.NODE_BYTES);
    assert.ok(g.totalBytes >= g.nodeBase + g.nodeCapacity * L.NODE_BYTES);
    assert.equal(g.retireCapacity, g.vmaCapacity + g.nodeCapacity);
    assert.equal(L.NODE_BYTES % 8, 0);
    assert.throws(() => L.computeGeometry(0), RangeError);
  });

  it('keeps a VMA record on one cache line with its lock words', () => {
    assert.equal(L.VMA_RECORD_BYTES, L.CACHE_LINE);
    const words = [
      L.VMA_F64_START * 2,
      L.VMA_F64_START * 2 + 1,
      L.VMA_F64_END * 2,
      L.VMA_F64_END * 2 + 1,
      L.VMA_F64_PGOFF * 2,
      L.VMA_F64_PGOFF * 2 + 1,
      L.VMA_F64_ANON_NAME * 2,
      L.VMA_F64_ANON_NAME * 2 + 1,
      L.VMA_I32_FLAGS,
      L.VMA_I32_FILE,
      L.VMA_I32_OPS,
      L.VMA_I32_GEN,
      L.VMA_I32_FREE_NEXT,
      L.VMA_I32_REFCNT,
      L.VMA_I32_LOCK_SEQ,
    ];
    assert.equal(new Set(words).size, words.length, 'record fields overlap');
    for (const w of words) assert.ok(w >= 0 && w * 4 < L.VMA_RECORD_BYTES);
  });

  it('counts committed bytes from the high-water marks, whole pages, shared pages once', () => {
    const g = L.computeGeometry(1000);
    const v = L.arenaViews(L.allocateArena(g.totalBytes));
    L.writeGeometry(v, g);
    const pagesOf = (a: number, b: number) =>
      Math.ceil(b / L.PAGE_BYTES) - Math.floor(a / L.PAGE_BYTES);
    // Empty: the header page and the pivot page.
    assert.equal(L.committedBytes(v, g), L.FIXED_PAGES * L.PAGE_BYTES);
    // A 100-VMA process: records end on page 1; 16 ring slots and 20 nodes on the pivot page
    // and the next: four pages.
    v.i32[L.I32_VMA_HIGH_WATER] = 101;
    v.i32[L.I32_NODE_HIGH_WATER] = 20;
    v.i32[L.I32_RETIRE_HIGH_WATER] = 16;
    assert.equal(L.committedBytes(v, g), 4 * L.PAGE_BYTES);
    v.i32[L.I32_VMA_HIGH_WATER] = 200;
    v.i32[L.I32_NODE_HIGH_WATER] = 30;
    v.i32[L.I32_RETIRE_HIGH_WATER] = 400;
    const grown =
      pagesOf(0, g.vmaBase + 200 * L.VMA_RECORD_BYTES) +
      pagesOf(g.nodeBase - 400 * L.RETIRE_ENTRY_BYTES, g.nodeBase + 30 * L.NODE_BYTES);
    assert.equal(L.committedBytes(v, g), grown * L.PAGE_BYTES);
    assert.equal(grown, 4 + 5);
  });
});
