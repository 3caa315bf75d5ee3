import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BLOCK_CELLS,
  FAMILIES,
  HISTOGRAM_CELLS,
  seriesCell,
  seriesIndex,
  seriesLabelIds,
} from '../../src/metrics/families.js';

describe('instrument block layout', () => {
  it('families tile the block without gaps or overlaps', () => {
    let next = 0;
    for (const f of FAMILIES) {
      assert.equal(f.offset, next, f.name);
      assert.equal(f.cellsPerSeries, f.kind === 'histogram' ? HISTOGRAM_CELLS : 1);
      next += f.seriesCount * f.cellsPerSeries;
    }
    assert.equal(next, BLOCK_CELLS);
  });

  it('series index and label ids are inverse, and series cells are distinct', () => {
    const seen = new Set<number>();
    for (const f of FAMILIES) {
      assert.equal(
        f.seriesCount,
        f.labelValues.reduce((n, v) => n * v.length, 1),
      );
      for (let s = 0; s < f.seriesCount; s++) {
        const ids = seriesLabelIds(f, s);
        ids.forEach((id, i) => {
          assert.ok(id >= 0 && id < f.labelValues[i].length);
        });
        assert.equal(seriesIndex(f, ids), s);
        const cell = seriesCell(f, s);
        assert.ok(!seen.has(cell));
        seen.add(cell);
      }
    }
  });

  it('names follow Prometheus conventions: counters end in _total, histograms in _seconds', () => {
    for (const f of FAMILIES) {
      assert.match(f.name, /^procfs_[a-z_]+$/);
      if (f.kind === 'counter') assert.match(f.name, /_total$/);
      else assert.match(f.name, /_seconds$/);
      assert.ok(!f.labelNames.includes('pid'));
    }
  });
});
