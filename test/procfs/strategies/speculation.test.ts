/**
 * The retry and fallback paths of the speculating strategies (snapshot, lockless,
 * lockless_nofallback), each forced by a known write at a hook point inside the speculation
 * window, and the hazards of lockless_nofallback, with exact counts and exact text. The text of a
 * read is the state after the writes (they change only lines at or after the position).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { beginMmWrite, endMmWrite, installWriterHooks } from '../../../src/mm/mm-writer.js';
import { OPS_DUMMY, OPS_VDSO } from '../../../src/mm/special-mappings.js';
import { mmap, mprotect, munmap, prctlSetVmaAnonName } from '../../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE } from '../../../src/mm/vm-flags.js';
import { PROCMAP_QUERY_COVERING_OR_NEXT_VMA } from '../../../src/procfs/procmap-query.js';
import {
  createReaderContext,
  ReadWouldWait,
} from '../../../src/procfs/strategies/reader-context.js';
import {
  type ReadStrategy,
  type StrategyHooks,
  strategyByName,
} from '../../../src/procfs/strategies/strategy.js';
import { context, directQuery, directText, readAll, strategyQuery } from './helpers.js';
import { hookAt, layoutMm, PAGE, PROT_OF, v, write, writerEnv } from './layout.js';

installWriterHooks();
const SPECULATING = ['snapshot', 'lockless', 'lockless_nofallback'] as const;
const vmaLines = (text: string) => text.trimEnd().split('\n').length - 1; // minus [vsyscall]
/** lockless reads these under the mmap lock: [anon:old] V6, [vdso], [vvar]... of the template. */
const fancyLines = (text: string) =>
  text.split('\n').filter((l) => /\[(anon:|anon_shmem:|vdso\]|vvar)/.test(l)).length;
const expectedFancy = (s: ReadStrategy, text: string) =>
  s.name === 'lockless' ? fancyLines(text) : 0;

/** The [vdso] VMA's start. */
function vdsoStart(mm: MmStruct): number {
  for (const [start, , id] of mm.index.entries()) if (mm.vmas.ops(id) === OPS_VDSO) return start;
  throw new Error('no [vdso]');
}

for (const name of SPECULATING) {
  const s = strategyByName(name);

  test(`${name}: a change during the window is retried once, text is the new state`, () => {
    const mm = layoutMm();
    const { hooks, calls } = hookAt('beforeValidate', v(3), 1, (m) => {
      assert.equal(
        write(m, () => mprotect(m, v(3), 2 * PAGE, 5)),
        0,
      );
    });
    const ctx = context(hooks);
    const got = readAll(s, ctx, mm, 0);
    assert.equal(calls.fired, 1);
    assert.equal(got.text, directText(mm));
    assert.match(
      got.text,
      new RegExp(`${v(3).toString(16)}-${(v(3) + 2 * PAGE).toString(16)} r-x`),
    );
    assert.equal(ctx.stats.retries, 1);
    assert.equal(ctx.stats.attempts, vmaLines(got.text) + 1 + 1);
    assert.deepEqual(ctx.stats.fallbacks, [0, expectedFancy(s, got.text), 0, 0]);
    assert.deepEqual(ctx.stats.hazards, [0, 0]);
    // one momentary lock to resync, plus one per fancy fallback
    assert.equal(ctx.stats.mmapLocks, 1 + expectedFancy(s, got.text));
  });

  test(`${name}: retries are bounded, then the VMA is read under the mmap lock (retry_limit)`, () => {
    const mm = layoutMm();
    let prot = PROT_OF(7);
    // Every attempt on V3 sees a change elsewhere (V7's prot toggled), as a writer in a loop.
    const { hooks, calls } = hookAt('beforeValidate', v(3), 100, (m) => {
      prot = prot === 5 ? PROT_OF(7) : 5;
      assert.equal(
        write(m, () => mprotect(m, v(7), 2 * PAGE, prot)),
        0,
      );
    });
    const ctx = context(hooks, 2);
    const got = readAll(s, ctx, mm, 0);
    assert.equal(calls.fired, 3, 'three attempts on V3: the first and two retries');
    assert.equal(got.text, directText(mm));
    assert.match(
      got.text,
      new RegExp(`${v(7).toString(16)}-${(v(7) + 2 * PAGE).toString(16)} r-x`),
    );
    assert.equal(ctx.stats.retries, 2);
    assert.equal(ctx.stats.attempts, vmaLines(got.text) + 1 + 2);
    assert.deepEqual(ctx.stats.fallbacks, [0, expectedFancy(s, got.text), 0, 1]);
  });

  test(`${name}: a VMA mapped ahead of the walk during the window is not skipped`, () => {
    const mm = layoutMm();
    const { hooks } = hookAt('beforeValidate', v(3), 1, (m) => {
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
      assert.equal(
        write(m, () => mmap(m, v(4), PAGE, 5, flags)),
        v(4),
      );
    });
    const ctx = context(hooks);
    const got = readAll(s, ctx, mm, 0);
    assert.equal(got.text, directText(mm));
    assert.ok(got.text.includes(`${v(4).toString(16)}-${(v(4) + PAGE).toString(16)} r-x`));
    assert.equal(ctx.stats.retries, 1);
  });

  test(`${name}: a change during the window of a line the reader's memo matched is retried`, () => {
    const mm = layoutMm();
    // Armed for the second read only: the first fills the reader's memo (lockless readers then
    // copy V3's line from it straight off the live record, before the validation).
    let armed = false;
    const inner = hookAt('beforeValidate', v(3), 1, (m) => {
      assert.equal(
        write(m, () => mprotect(m, v(3), 2 * PAGE, 5)),
        0,
      );
    });
    const hooks: StrategyHooks = {
      beforeValidate: (m, id) => {
        if (armed) inner.hooks.beforeValidate?.(m, id);
      },
    };
    const ctx = context(hooks);
    const old = readAll(s, ctx, mm, 0).text;
    assert.equal(old, directText(mm));
    assert.ok(ctx.mapsLines(mm).entries > vmaLines(old) / 2, 'the memo holds the first read');
    const retriesBefore = ctx.stats.retries;
    armed = true;
    const got = readAll(s, ctx, mm, 0);
    assert.equal(inner.calls.fired, 1);
    assert.equal(got.text, directText(mm), 'the new state, not the memo line of the old one');
    assert.notEqual(got.text, old);
    assert.equal(ctx.stats.retries - retriesBefore, 1);
    assert.deepEqual(ctx.stats.hazards, [0, 0]);
  });

  test(`${name}: query retried after a change, answer from the new state`, () => {
    const mm = layoutMm();
    const { hooks } = hookAt('beforeValidate', v(2), 1, (m) => {
      assert.equal(
        write(m, () => munmap(m, v(2), 2 * PAGE)),
        0,
      );
    });
    const ctx = context(hooks);
    const flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA;
    const got = strategyQuery(s, ctx, mm, v(2), flags);
    assert.deepEqual(got, directQuery(mm, v(2), flags));
    assert.equal(got.start, v(3));
    assert.equal(ctx.stats.retries, 1);
    assert.equal(ctx.stats.attempts, 2);
  });
}

test('lockless: anon-named and special VMAs are read under the mmap lock, no hazard', () => {
  const mm = layoutMm();
  // A rename of V6 right after its lookup: lockless must not read the name speculatively.
  const { hooks } = hookAt('afterLookup', v(6), 1, (m) => {
    assert.equal(
      write(m, () => prctlSetVmaAnonName(m, v(6), 2 * PAGE, 'new')),
      0,
    );
  });
  let nameCalls = 0;
  hooks.beforeNameCall = () => {
    nameCalls++;
  };
  const ctx = context(hooks);
  const got = readAll(strategyByName('lockless'), ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.ok(got.text.includes('[anon:new]'));
  assert.equal(nameCalls, 0, 'no name op is called speculatively');
  assert.deepEqual(ctx.stats.fallbacks, [0, fancyLines(got.text), 0, 0]);
  assert.deepEqual(ctx.stats.hazards, [0, 0]);
  assert.equal(ctx.stats.retries, 0);
});

test('lockless: with no writer about, a fancy VMA is read under a trylock, without leaving RCU', () => {
  const mm = layoutMm();
  const ctx = context();
  const rcu = ctx.rcu;
  const unlock = rcu.readUnlock;
  let unlocks = 0;
  rcu.readUnlock = function (this: typeof rcu) {
    unlocks++;
    unlock.call(this);
  };
  try {
    // The RCU sections of a read with no fallback at all: lockless_nofallback's.
    readAll(strategyByName('lockless_nofallback'), context(), mm, 0);
    const sections = unlocks;
    unlocks = 0;
    const got = readAll(strategyByName('lockless'), ctx, mm, 0);
    assert.equal(got.text, directText(mm));
    const fancy = fancyLines(got.text);
    assert.ok(fancy >= 3, `the layout has fancy VMAs (${fancy})`);
    assert.deepEqual(ctx.stats.fallbacks, [0, fancy, 0, 0]);
    assert.equal(ctx.stats.mmapLocks, fancy, 'the read lock once per fancy VMA');
    assert.equal(ctx.stats.mmapLockWaits, 0);
    // One RCU section per chunk (m_start .. m_stop), none left for a fallback.
    assert.equal(unlocks, sections);
  } finally {
    rcu.readUnlock = unlock;
  }
});

test('lockless: a fancy VMA under a held mmap write lock falls back to waiting for the lock', () => {
  const mm = layoutMm();
  // The writer comes in right after the lookup of [vdso] and stays: the trylock fails, the
  // reader leaves RCU to wait, and an event-loop reader (mayWait false) gives up the read.
  const vdso = vdsoStart(mm);
  const { hooks } = hookAt('afterLookup', vdso, 1, (m) => beginMmWrite(m));
  const ctx = createReaderContext({ rcu: context().rcu, recorder: null, hooks, mayWait: false });
  try {
    assert.throws(() => readAll(strategyByName('lockless'), ctx, mm, 0), ReadWouldWait);
    ctx.abandonRead();
    assert.equal(ctx.stats.fallbacks[1] >= 1, true);
    assert.equal(ctx.stats.mmapLocks < ctx.stats.fallbacks[1], true, 'the last one was not taken');
  } finally {
    endMmWrite(mm, writerEnv, 0, 0);
  }
});

test('lockless_nofallback: a name freed under the reader is a use_after_free hazard, retried', () => {
  const mm = layoutMm();
  const old = mm.vmas.anonName(mm.findVma(v(6)));
  assert.equal(mm.anonNames.refcount(old), 1, 'V6 holds the only reference to "old"');
  const { hooks } = hookAt('beforeValidate', v(6), 1, (m) => {
    assert.equal(
      write(m, () => prctlSetVmaAnonName(m, v(6), 2 * PAGE, 'new')),
      0,
    );
    assert.equal(m.anonNames.isLive(old), false, '"old" was freed at once');
  });
  const ctx = context(hooks);
  const got = readAll(strategyByName('lockless_nofallback'), ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.ok(got.text.includes('[anon:new]') && !got.text.includes('[anon:old]'));
  assert.deepEqual(ctx.stats.hazards, [1, 0]);
  assert.equal(ctx.stats.retries, 1);
  assert.deepEqual(ctx.stats.fallbacks, [0, 0, 0, 0]);
});

test('lockless_nofallback reads the name of a line a locked reader memoised (the hazard stays)', () => {
  // per_vma reads first through the same memo: they copy the anon-named line from the record
  // (namedRecordHit) but never stamp it, so the speculating reader still reads the name.
  const mm = layoutMm();
  const { hooks } = hookAt('beforeValidate', v(6), 1, (m) => {
    assert.equal(
      write(m, () => prctlSetVmaAnonName(m, v(6), 2 * PAGE, 'new')),
      0,
    );
  });
  const ctx = context(hooks);
  for (let i = 0; i < 3; i++) readAll(strategyByName('per_vma'), ctx, mm, 0);
  const got = readAll(strategyByName('lockless_nofallback'), ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.deepEqual(ctx.stats.hazards, [1, 0]);
  assert.equal(ctx.stats.retries, 1);
});

test('lockless_nofallback: query name read from freed storage is a hazard, answer is new', () => {
  const mm = layoutMm();
  const { hooks } = hookAt('beforeValidate', v(6), 1, (m) => {
    assert.equal(
      write(m, () => prctlSetVmaAnonName(m, v(6), 2 * PAGE, 'new')),
      0,
    );
  });
  const ctx = context(hooks);
  const got = strategyQuery(strategyByName('lockless_nofallback'), ctx, mm, v(6), 0);
  assert.deepEqual(got, directQuery(mm, v(6), 0));
  assert.equal(got.name, '[anon:new]');
  assert.deepEqual(ctx.stats.hazards, [1, 0]);
  assert.equal(ctx.stats.retries, 1);
});

// After per_vma reads through the same memo too: they copy [vdso] from the record
// (specialRecordHit) but never stamp it, so the speculating reader still checks and calls.
for (const lockedReadsFirst of [0, 3]) {
  const after = lockedReadsFirst > 0 ? ' (after per_vma reads memoised the line)' : '';
  test(`lockless_nofallback: ops switched to dummy between check and call is null_deref${after}`, () => {
    const mm = layoutMm();
    const vdso = vdsoStart(mm);
    const vdsoId = mm.findVma(vdso);
    const { hooks, calls } = hookAt('beforeNameCall', vdso, 1, (m) => {
      assert.equal(
        write(m, () => munmap(m, vdso, m.vmas.end(vdsoId) - vdso)),
        0,
      );
      assert.equal(m.vmas.ops(vdsoId), OPS_DUMMY, 'vma_close switched the ops');
    });
    const ctx = context(hooks);
    for (let i = 0; i < lockedReadsFirst; i++) readAll(strategyByName('per_vma'), ctx, mm, 0);
    const got = readAll(strategyByName('lockless_nofallback'), ctx, mm, 0);
    assert.equal(calls.fired, 1);
    assert.equal(got.text, directText(mm));
    assert.ok(!got.text.includes('[vdso]'));
    assert.deepEqual(ctx.stats.hazards, [0, 1]);
    assert.equal(ctx.stats.retries, 1);
  });
}

test('lockless: the same unmap of [vdso] never reaches a name op (fancy fallback)', () => {
  const mm = layoutMm();
  const vdso = vdsoStart(mm);
  const { hooks } = hookAt('afterLookup', vdso, 1, (m) => {
    assert.equal(
      write(m, () => munmap(m, vdso, m.vmas.end(m.findVma(vdso)) - vdso)),
      0,
    );
  });
  const seen: StrategyHooks = hooks;
  let nameCalls = 0;
  seen.beforeNameCall = () => {
    nameCalls++;
  };
  const ctx = context(seen);
  const got = readAll(strategyByName('lockless'), ctx, mm, 0);
  assert.equal(got.text, directText(mm));
  assert.equal(nameCalls, 0);
  assert.deepEqual(ctx.stats.hazards, [0, 0]);
  // [vdso] was fancy when looked up: read under the lock, which found what follows it.
  assert.equal(ctx.stats.fallbacks[1], fancyLines(got.text) + 1);
});
