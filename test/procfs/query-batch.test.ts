/**
 * The batch loop (runQueryBatch) with per-entry requests (the per-query form): every row equals
 * that entry's own PROCMAP_QUERY (fields, name, build id, errno), names and build ids are interned
 * once per batch (rows of the same file share an index), and a batch resumed part-way (as the
 * event loop does after waiting for the mmap lock) goes on with the same indexes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ProcmapQueryResult, procmapQuery, queryArgs } from '../../src/procfs/procmap-query.js';
import {
  type AddressBatch,
  newQueryColumns,
  runQueryBatch,
  WANT_BUILD_ID,
  WANT_NAME,
} from '../../src/procfs/query-batch.js';
import type { ReaderContext } from '../../src/procfs/strategies/strategy.js';
import { fakeMmFromText, fakeQueryTarget, readFixture } from './fake-vmas.js';

const FLAGS = [0, 0x10, 0x30, 0x14, 0x2, 0x40];
const reads = { n: 0 };
const ctx = {
  beginRead() {},
  endRead(count: number) {
    reads.n += count;
  },
} as unknown as ReaderContext;

test('per-entry batch rows equal their own queries; names and build ids interned per batch', () => {
  const mm = fakeMmFromText(readFixture('cat.maps'));
  const files = [...new Set(mm.vmas.filter((v) => v.fileId !== 0).map((v) => v.fileId))];
  // Two files with a build id, one of them too long for the 20-byte buffer (ENAMETOOLONG).
  const buildIds = new Map([
    [files[0], Uint8Array.from({ length: 20 }, (_, i) => i + 1)],
    [files[1], Uint8Array.from({ length: 20 }, (_, i) => 0xf0 - i)],
    [files[2], new Uint8Array(32).fill(7)],
  ]);
  const target = fakeQueryTarget(mm, { buildIds });
  const top = mm.vmas[mm.vmas.length - 1].end;
  const entry = fc.record({
    addr: fc.oneof(
      fc.constantFrom(...mm.vmas.map((v) => v.start)),
      fc.integer({ min: 0, max: top + 0x10000 }),
    ),
    flags: fc.constantFrom(...FLAGS),
    want: fc.integer({ min: 0, max: 3 }),
  });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 60 }), fc.nat(), (es, cut) => {
      const n = es.length;
      const batch: AddressBatch = {
        addrs: Float64Array.from(es, (e) => e.addr),
        flags: 0,
        name: false,
        entries: {
          flags: Int32Array.from(es, (e) => e.flags),
          want: Uint8Array.from(es, (e) => e.want),
        },
      };
      const cols = newQueryColumns(n);
      const at = cut % (n + 1);
      reads.n = 0;
      assert.equal(runQueryBatch(ctx, 0, target, batch, cols, 0, at), at);
      // Another batch in between (per-thread indexes), then the rest of this one.
      runQueryBatch(ctx, 0, target, batch, newQueryColumns(n), 0, n);
      assert.equal(runQueryBatch(ctx, 0, target, batch, cols, at, n), n);
      assert.equal(reads.n, 2 * n);
      assert.equal(new Set(cols.names).size, cols.names.length);
      assert.equal(new Set(cols.buildIds).size, cols.buildIds.length);
      const out = new ProcmapQueryResult();
      for (const [i, e] of es.entries()) {
        const name = (e.want & WANT_NAME) !== 0;
        const buildId = (e.want & WANT_BUILD_ID) !== 0;
        const r = procmapQuery(queryArgs(e.addr, e.flags, name, buildId), target, out);
        assert.equal(cols.errno[i], r < 0 ? -r : 0, `entry ${i}`);
        if (r < 0) continue;
        assert.equal(cols.start[i], out.vmaStart);
        assert.equal(cols.end[i], out.vmaEnd);
        assert.equal(cols.flags[i], out.vmaFlags);
        assert.equal(cols.pageSize[i], out.vmaPageSize);
        assert.equal(cols.offset[i], out.vmaOffset);
        assert.equal(cols.inode[i], out.inode);
        assert.equal(cols.devMajor[i], out.devMajor);
        assert.equal(cols.devMinor[i], out.devMinor);
        const k = cols.name[i];
        assert.equal(k < 0 ? null : cols.names[k], name ? out.nameString() : null);
        const b = cols.buildId[i];
        const hex =
          out.buildIdSize > 0 ? Buffer.from(out.buildId as Uint8Array).toString('hex') : null;
        assert.equal(b < 0 ? null : cols.buildIds[b], hex);
      }
    }),
    { numRuns: 300 },
  );
});
