/**
 * per_vma's lock_next_vma paths, each forced by a known write at a hook point inside the RCU
 * window (kernel.md §3.2/§3.3), with exact counts and the exact text: the text of a read is the
 * state after the write (every write here changes only lines at or after the position).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SYNC_WORDS_BASE } from '../../../src/mm/mm-struct.js';
import { beginMmWrite, endMmWrite, installWriterHooks } from '../../../src/mm/mm-writer.js';
import { mmap, mprotect, munmap } from '../../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE } from '../../../src/mm/vm-flags.js';
import { ByteSink } from '../../../src/procfs/byte-sink.js';
import { MapsPosition } from '../../../src/procfs/maps-text.js';
import { PROCMAP_QUERY_COVERING_OR_NEXT_VMA } from '../../../src/procfs/procmap-query.js';
import { OP_MAPS } from '../../../src/procfs/strategies/reader-context.js';
import { strategyByName } from '../../../src/procfs/strategies/strategy.js';
import { VM_REFCNT_LIMIT, vmaIsWriteLocked, vmaRefcnt } from '../../../src/sync/vma-lock.js';
import { context, directQuery, directText, readAll, strategyQuery } from './helpers.js';
import { hookAt, layoutMm, PAGE, v, write, writerEnv } from './layout.js';

installWriterHooks();
const perVma = strategyByName('per_vma');
const vmaLines = (text: string) => text.trimEnd().split('\n').length - 1; // minus [vsyscall]

test('detached after lookup: retry from the position (detached), no mmap lock', () => {
  const mm = layoutMm();
  const { hooks, calls } = hookAt('afterLookup', v(2), 1, (m) => {
    assert.equal(
      write(m, () => munmap(m, v(2), 2 * PAGE)),
      0,
    );
  });
  const ctx = context(hooks);
  const got = readAll(perVma, ctx, mm, 0);
  assert.equal(calls.fired, 1);
  assert.equal(got.text, directText(mm));
  assert.ok(!got.text.includes(`${v(2).toString(16)}-`), 'V2 is gone');
  assert.equal(ctx.stats.retries, 1);
  assert.deepEqual(ctx.stats.fallbacks, [0, 0, 1, 0]);
  assert.equal(ctx.stats.attempts, vmaLines(got.text) + 1 + 1);
  assert.equal(ctx.stats.mmapLocks, 0);
});

test('write-locked VMA: momentary mmap read lock (contention), then the changed VMA', () => {
  const mm = layoutMm();
  const seen = { writeLocked: false };
  const { hooks } = hookAt('afterLookup', v(3), 1, (m) => {
    beginMmWrite(m); // the writer stays inside until the reader falls back
    assert.equal(mprotect(m, v(3), 2 * PAGE, 5), 0);
    seen.writeLocked = vmaIsWriteLocked(
      m.i32,
      SYNC_WORDS_BASE,
      m.vmas.lockSeqWord(m.findVma(v(3))),
    );
  });
  hooks.beforeFallbackLock = (m) => endMmWrite(m, writerEnv, 2, 0);
  const ctx = context(hooks);
  const got = readAll(perVma, ctx, mm, 0);
  assert.ok(seen.writeLocked, 'the reader met a write-locked VMA');
  assert.equal(got.text, directText(mm));
  assert.match(got.text, new RegExp(`${v(3).toString(16)}-${(v(3) + 2 * PAGE).toString(16)} r-x`));
  assert.deepEqual(ctx.stats.fallbacks, [1, 0, 0, 0]);
  assert.equal(ctx.stats.retries, 0);
  assert.equal(ctx.stats.mmapLocks, 1);
});

// mprotect of V1's head splits V1 at its middle with new_below = 0 (mm/vma.c): V1's own record
// shrinks in place to the head and a new record takes the tail, so a reader that found V1's
// record from a position in its tail is now behind it.
const shrinkV1 = () =>
  hookAt('afterLookup', v(1), 1, (m) => {
    const id = m.findVma(v(1));
    assert.equal(
      write(m, () => mprotect(m, v(1), PAGE, 5)),
      0,
    );
    assert.equal(m.vmas.end(id), v(1) + PAGE, 'V1 shrunk in place');
  });

test('VMA shrunk behind the position: contention fallback finds the next VMA', () => {
  const mm = layoutMm();
  // A position inside V1 (as after V0 shown and V1 merged down over it): from = V1 + 1 page.
  const from = v(1) + PAGE;
  const { hooks } = shrinkV1();
  const ctx = context(hooks);
  const pos = new MapsPosition();
  pos.index = from;
  pos.lastPos = from;
  const sink = new ByteSink();
  ctx.beginRead(OP_MAPS, perVma.id);
  assert.ok(perVma.readChunk(ctx, mm, pos, 0, sink) > 0);
  ctx.endRead();
  const text = sink.toLatin1();
  assert.ok(text.startsWith(`${from.toString(16)}-${v(2).toString(16)} r--`), text.slice(0, 40));
  assert.ok(directText(mm).endsWith(text));
  assert.deepEqual(ctx.stats.fallbacks, [1, 0, 0, 0]);
  assert.equal(ctx.stats.mmapLocks, 1);
});

test('query: VMA shrunk below the address falls back; answers as the changed mm does', () => {
  for (const flags of [0, PROCMAP_QUERY_COVERING_OR_NEXT_VMA]) {
    const mm = layoutMm();
    const { hooks } = shrinkV1();
    const ctx = context(hooks);
    const got = strategyQuery(perVma, ctx, mm, v(1) + PAGE, flags);
    assert.deepEqual(got, directQuery(mm, v(1) + PAGE, flags));
    assert.equal(got.start, v(1) + PAGE, 'the new tail record');
    assert.deepEqual(ctx.stats.fallbacks, [1, 0, 0, 0]);
  }
});

/** Hooks that map one r-x page into the hole (V4) after the lookup that found `start`. */
const mapIntoHoleAfterLookupOf = (start: number) =>
  hookAt('afterLookup', start, 1, (m) => {
    const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    assert.equal(
      write(m, () => mmap(m, v(4), PAGE, 5, flags)),
      v(4),
    );
  });

test('transient gap: a VMA mapped into the gap after the lookup forces the fallback', () => {
  const mm = layoutMm();
  const { hooks } = mapIntoHoleAfterLookupOf(v(5));
  const ctx = context(hooks);
  const got = readAll(perVma, ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.ok(got.text.includes(`${v(4).toString(16)}-${(v(4) + PAGE).toString(16)} r-x`));
  assert.deepEqual(ctx.stats.fallbacks, [1, 0, 0, 0]);
  assert.equal(ctx.stats.retries, 0);
});

test('a VMA mapped into the gap ahead of the walk: the next lookup seeks afresh, no fallback', () => {
  // The write comes after V3's lookup, so the lookup from V3's end would continue the cursor on
  // the old snapshot (V5 next, a gap before it) were it not for the sequence read with a plain
  // load (RcuVmaCursor.nextSpeculating): it has moved, so the lookup seeks the new tree and finds
  // V4 itself. Continuing anyway fails this test: with the new sequence, V4 is missing (the gap
  // check sees no change); with the old one, the gap check falls back (contention 1).
  const mm = layoutMm();
  const { hooks, calls } = mapIntoHoleAfterLookupOf(v(3));
  const ctx = context(hooks);
  const got = readAll(perVma, ctx, mm, 0);
  assert.equal(calls.fired, 1);
  assert.equal(got.text, directText(mm));
  assert.ok(got.text.includes(`${v(4).toString(16)}-${(v(4) + PAGE).toString(16)} r-x`));
  assert.deepEqual(ctx.stats.fallbacks, [0, 0, 0, 0]);
  assert.equal(ctx.stats.retries, 0);
  assert.equal(ctx.stats.attempts, vmaLines(got.text) + 1, 'one per VMA, and the end');
  assert.equal(ctx.stats.mmapLocks, 0);
});

test('gap still real after an unrelated change: no fallback', () => {
  const mm = layoutMm();
  const { hooks } = hookAt('afterLookup', v(5), 1, (m) => {
    assert.equal(
      write(m, () => mprotect(m, v(7), 2 * PAGE, 5)),
      0,
    );
  });
  const ctx = context(hooks);
  const got = readAll(perVma, ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.deepEqual(ctx.stats.fallbacks, [0, 0, 0, 0]);
  assert.equal(ctx.stats.mmapLocks, 0);
});

test('vm_refcnt overflow: fallback, then the mmap lock for the rest of the chunk', () => {
  const mm = layoutMm();
  const before = directText(mm);
  let word = -1;
  const { hooks } = hookAt('afterLookup', v(2), 1, (m, id) => {
    word = m.vmas.refcntWord(id);
    Atomics.store(m.i32, word, VM_REFCNT_LIMIT);
  });
  const ctx = context(hooks);
  const limit = 1200; // V2 lies in the chunk after the first one
  const got = readAll(perVma, ctx, mm, limit);
  assert.equal(vmaRefcnt(mm.i32, word), VM_REFCNT_LIMIT, 'the reader left the count alone');
  Atomics.store(mm.i32, word, 1);
  assert.equal(got.text, before);
  assert.deepEqual(got.chunks, readAll(perVma, context(), mm, limit).chunks);
  assert.deepEqual(ctx.stats.fallbacks, [2, 0, 0, 0]);
  assert.equal(ctx.stats.mmapLocks, 2, 'the momentary lock, then one held to the chunk end');
});

test('query: refcnt overflow holds the mmap lock to teardown, answer unchanged', () => {
  const mm = layoutMm();
  let word = -1;
  const { hooks } = hookAt('afterLookup', v(3), 1, (m, id) => {
    word = m.vmas.refcntWord(id);
    Atomics.store(m.i32, word, VM_REFCNT_LIMIT);
  });
  const ctx = context(hooks);
  const got = strategyQuery(perVma, ctx, mm, v(3), 0);
  Atomics.store(mm.i32, word, 1);
  assert.deepEqual(got, directQuery(mm, v(3), 0));
  assert.deepEqual(ctx.stats.fallbacks, [2, 0, 0, 0]);
  assert.equal(ctx.stats.mmapLocks, 2, 'the momentary lock, then one held to teardown');
});

test('query: detached after lookup retries; read lock released after teardown', () => {
  const mm = layoutMm();
  const { hooks } = hookAt('afterLookup', v(2), 1, (m) => {
    assert.equal(
      write(m, () => munmap(m, v(2), 2 * PAGE)),
      0,
    );
  });
  const ctx = context(hooks);
  const got = strategyQuery(perVma, ctx, mm, v(2), PROCMAP_QUERY_COVERING_OR_NEXT_VMA);
  assert.equal(got.start, v(3));
  assert.equal(ctx.stats.retries, 1);
  assert.deepEqual(ctx.stats.fallbacks, [0, 0, 1, 0]);
  const id = mm.findVma(v(3));
  assert.equal(vmaRefcnt(mm.i32, mm.vmas.refcntWord(id)), 1, 'no read lock left behind');
  // and a writer can take the VMA right away (it would throw here if a reader were left)
  assert.equal(
    write(mm, () => mprotect(mm, v(3), 2 * PAGE, 5)),
    0,
  );
});
