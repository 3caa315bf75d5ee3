// The run lists behind page tables and page objects, against a model (a plain array of pages)
// under random operations at thousands of runs: every lookup, walk and change must give what a
// walk from the head gives, and the skip-list index (run-index.ts) must stay exact: each index
// record names a linked run by its key, every level sorted, everything freed with the list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBudget } from '../../../src/mm/memory-budget.js';
import { PagePool } from '../../../src/mm/pages/page-pool.js';
import {
  coalesce,
  findRun,
  firstRunFrom,
  forEachInside,
  freeList,
  lastRunBefore,
  linkRun,
  unlinkRange,
} from '../../../src/mm/pages/run-list.js';

/** A pseudo-random generator (deterministic: the failures reproduce). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PAGES = 40_000;

/** The list's pages as an array of bits (-1: no run); also checks the list is sorted, disjoint. */
function listPages(pool: PagePool, hw: number): Int32Array {
  const pages = new Int32Array(PAGES).fill(-1);
  let end = -1;
  for (let r = pool.i32[hw]; r !== 0; r = pool.next(r)) {
    const k = pool.key(r);
    assert.ok(k >= end, `run at ${k} overlaps or is out of order (previous end ${end})`);
    assert.ok(pool.count(r) > 0);
    for (let p = k; p < k + pool.count(r); p++) pages[p] = pool.bits(r);
    end = k + pool.count(r);
  }
  return pages;
}

/** The index's levels: sorted, each record over a linked run (or index record) of its key. */
function checkIndex(pool: PagePool, hw: number): number {
  const runs = new Map<number, number>();
  for (let r = pool.i32[hw]; r !== 0; r = pool.next(r)) runs.set(pool.key(r), r);
  const hdr = pool.i32[hw - 2];
  if (runs.size === 0) assert.equal(hdr, 0, 'an empty list keeps no index');
  if (hdr === 0) return 0;
  let records = 1;
  let below = runs;
  for (let l = 0; l < 8; l++) {
    const level = new Map<number, number>();
    let last = -1;
    for (let x = pool.i32[pool.w(hdr) + l]; x !== 0; x = pool.next(x)) {
      const k = pool.key(x);
      assert.ok(k > last, `level ${l + 1} sorted`);
      assert.equal(
        pool.count(x),
        below.get(k),
        `level ${l + 1} record at ${k} points down to its key`,
      );
      last = k;
      level.set(k, x);
      records++;
    }
    below = level;
  }
  return records;
}

function insertRun(pool: PagePool, hw: number, at: number, n: number, bits: number): void {
  const r = pool.alloc();
  pool.setKey(r, at);
  pool.setOpage(r, at);
  pool.setCount(r, n);
  pool.setBits(r, bits);
  linkRun(pool, hw, r);
  coalesce(pool, hw, at, at + n);
}

test('run lists with a skip-list index match a page model under random ops at thousands of runs', () => {
  const budget = MemoryBudget.create();
  const pool = PagePool.create(budget, 1 << 17, 16);
  pool.lock();
  const head = pool.alloc();
  const hw = pool.w(head) + 4;
  const model = new Int32Array(PAGES).fill(-1);
  const next = rng(12);
  let maxRuns = 0;
  for (let step = 0; step < 6000; step++) {
    const op = next();
    const lo = Math.floor(next() * (PAGES - 64));
    const n = 1 + Math.floor(next() * (op < 0.7 ? 3 : 48));
    const hi = lo + n;
    if (op < 0.7) {
      // map the free pages of [lo, hi) one by one (bits alternate: runs stay many)
      for (let p = lo; p < hi; p++) {
        if (model[p] !== -1) continue;
        const bits = (p >> 1) & 1;
        insertRun(pool, hw, p, 1, bits);
        model[p] = bits;
      }
    } else if (op < 0.85) {
      unlinkRange(pool, hw, lo, hi, (r) => pool.free(r));
      model.fill(-1, lo, hi);
    } else {
      forEachInside(pool, hw, lo, hi, (r) => pool.setBits(r, pool.bits(r) ^ 2));
      coalesce(pool, hw, lo, hi);
      for (let p = lo; p < hi; p++) if (model[p] !== -1) model[p] ^= 2;
    }
    if (step % 500 === 0 || step === 5999) {
      assert.deepEqual(listPages(pool, hw), model, `pages after step ${step}`);
      checkIndex(pool, hw);
      let runs = 0;
      for (let r = pool.i32[hw]; r !== 0; r = pool.next(r)) runs++;
      maxRuns = Math.max(maxRuns, runs);
    }
    // Lookups agree with the model at random pages.
    for (let i = 0; i < 4; i++) {
      const p = Math.floor(next() * PAGES);
      const r = findRun(pool, hw, p);
      assert.equal(r === 0 ? -1 : pool.bits(r), model[p], `findRun(${p})`);
      const f = firstRunFrom(pool, hw, p);
      let q = p;
      while (q < PAGES && model[q] === -1) q++;
      if (q === PAGES) assert.equal(f, 0);
      else assert.ok(pool.key(f) <= q && q < pool.key(f) + pool.count(f), `firstRunFrom(${p})`);
      const b = lastRunBefore(pool, hw, p, false);
      if (b !== 0)
        assert.ok(pool.key(b) < p && (pool.next(b) === 0 || pool.key(pool.next(b)) >= p));
      else assert.ok(pool.i32[hw] === 0 || pool.key(pool.i32[hw]) >= p);
    }
  }
  assert.ok(maxRuns > 3000, `the lists grew long (${maxRuns} runs)`);
  const inUse = pool.inUse;
  const indexRecords = checkIndex(pool, hw);
  let runs = 0;
  for (let r = pool.i32[hw]; r !== 0; r = pool.next(r)) runs++;
  assert.equal(inUse, 1 + runs + indexRecords, 'records in use: head, runs, index');
  freeList(pool, hw);
  assert.equal(pool.inUse, 1, 'freeing the list frees its index');
  unlinkRange(pool, hw, 0, PAGES, () => assert.fail('empty'));
  pool.unlock();
});
