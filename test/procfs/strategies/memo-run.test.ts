/**
 * The chunk loop's run (`MapsWalker.copyRun`, maps-line-memo.ts `copyRun`): lines whose VMA is
 * unchanged since the reader's last read are copied many per call, each VMA still found and
 * protected as the line-by-line path finds and protects it. On the node template, whole and in
 * 700-byte and 4 KiB chunks, and in chunks its 10th line would fill exactly: the third read copies
 * every line in runs but the gate line (its counter moves), and
 * it prints the same chunks, counts the same lookups and mmap lock windows as the first read
 * (which formats every line: nothing to run on), and per_vma looks the same VMAs up in the same
 * order with none of them read-locked at any lookup (the previous one is unlocked first: one VMA
 * read lock at a time).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VMA_I32_REFCNT } from '../../../src/mm/arena-layout.js';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { VMA_W32 } from '../../../src/mm/vma-table.js';
import { strategyByName } from '../../../src/procfs/strategies/strategy.js';
import { context, directText, readAll, templateMm } from './helpers.js';

/** The ids of every VMA of `mm`, in address order. */
function vmaIds(mm: MmStruct): number[] {
  const c = mm.index.cursor();
  const ids: number[] = [];
  for (let ok = c.seek(0); ok; ok = c.next()) ids.push(c.id);
  return ids;
}

/** VMA `id`'s vm_refcnt (1: attached, not read-locked). */
function refcnt(mm: MmStruct, id: number): number {
  const t = mm.vmas;
  return t.i32[t.base32 + id * VMA_W32 + VMA_I32_REFCNT];
}

/**
 * A chunk size at which the node template's 10th line ends exactly at the chunk's end: that line
 * starts the next chunk (seq_file counts a full buffer as overflow).
 */
function exactLimit(): number {
  const lines = directText(templateMm('node')).split('\n');
  return lines.slice(0, 10).join('\n').length + 1;
}

for (const name of ['mmap_lock', 'per_vma'] as const) {
  for (const limit of [0, 700, 4096, exactLimit()]) {
    test(`${name} (chunks ${limit || 'none'}): a run takes each VMA as the line-by-line path does`, () => {
      const s = strategyByName(name);
      const mm = templateMm('node');
      const ids = vmaIds(mm);
      let lookups: number[] = [];
      let lockedAtLookup = 0;
      const ctx = context({
        afterLookup(m, id) {
          lookups.push(id);
          lockedAtLookup += ids.filter((x) => refcnt(m, x) !== 1).length;
        },
      });
      const memo = ctx.mapsLines(mm);
      const read = () => {
        lookups = [];
        const { attempts, mmapLocks } = ctx.stats;
        const runs = memo.runCopies;
        const got = readAll(s, ctx, mm, limit);
        assert.equal(got.err, 0);
        assert.equal(got.text, directText(mm, limit));
        return {
          chunks: got.chunks,
          lookups,
          attempts: ctx.stats.attempts - attempts,
          mmapLocks: ctx.stats.mmapLocks - mmapLocks,
          runs: memo.runCopies - runs,
        };
      };
      const first = read(); // formats every line
      read(); // compares and stamps
      const third = read();
      const lines = first.chunks.join('').split('\n').length - 1;
      assert.equal(first.runs, 0, 'the first read has no memo to run on');
      // Every line but the gate line, each chunk's first and the special mappings' and
      // anon-named ones included (a chunk starts with a run; unstamped lines are matched field
      // by field under the lock).
      assert.equal(third.runs, lines - 1, `lines copied in runs of ${lines}`);
      assert.deepEqual(third.chunks, first.chunks, 'the same chunk boundaries');
      if (limit > 0) assert.ok(first.chunks[0].length < limit, 'a chunk stays below its size');
      assert.equal(third.attempts, first.attempts, 'the same lookups and lock tries');
      assert.equal(third.mmapLocks, first.mmapLocks, 'the same mmap lock windows');
      assert.deepEqual(third.lookups, first.lookups, 'the same VMAs looked up, in order');
      if (name === 'per_vma') assert.ok(first.lookups.length >= lines - 1);
      assert.equal(lockedAtLookup, 0, 'no VMA read-locked at a lookup');
      for (const id of ids) assert.equal(refcnt(mm, id), 1, 'every VMA unlocked after the read');
    });
  }
}
