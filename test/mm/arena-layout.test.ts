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

  it('sizes regions for max_map_count with slack and aligns them', () => {
    const g = L.computeGeometry(65_530);
    assert.ok(
      g.vmaCapacity - 1 >= 2 * 65_530,
      'a full address space can be rewritten in one grace period',
    );
    assert.ok(g.nodeCapacity > 65_530 / 7 + 1024);
    for (const base of [g.vmaBase, g.nodeBase, g.retireStampBase, g.retireItemBase, g.totalBytes]) {
      assert.equal(base % L.CACHE_LINE, 0);
    }
    assert.ok(g.nodeBase >= g.vmaBase + g.vmaCapacity * L.VMA_RECORD_BYTES);
    assert.ok(g.retireStampBase >= g.nodeBase + g.nodeCapacity * L.NODE_BYTES);
    assert.ok(g.retireItemBase >= g.retireStampBase + 8 * g.retireCapacity);
    assert.ok(g.totalBytes >= g.retireItemBase + 4 * g.retireCapacity);
    assert.equal(g.retireCapacity, g.vmaCapacity + g.nodeCapacity);
    assert.equal(L.NODE_BYTES % 8, 0);
    assert.throws(() => L.computeGeometry(0), RangeError);
  });
});
