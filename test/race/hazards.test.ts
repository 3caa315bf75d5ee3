/**
 * Hazards on real threads: a writer thread renames an anonymous VMA back and forth (each rename
 * frees the old name's storage at once, as Linux does) and moves [vdso] away and back with mremap
 * (each move closes the old VMA: its ops become the dummy ops). lockless_nofallback readers read
 * those names speculatively and must detect hazards (> 0) yet never return a torn or foreign
 * line; lockless readers under the same writer see none (they read fancy VMAs under the lock).
 * Run from dist/ (workers are .js).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MmGlobals } from '../../src/mm/mm-struct.js';
import { OPS_VDSO } from '../../src/mm/special-mappings.js';
import { mmap, mprotect, mremap, prctlSetVmaAnonName } from '../../src/mm/syscalls/index.js';
import { buildTemplate } from '../../src/mm/templates/index.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, MREMAP_FIXED, MREMAP_MAYMOVE } from '../../src/mm/vm-flags.js';
import { RcuDomain } from '../../src/sync/rcu.js';
import type { ReaderData, ReaderResult, WriterData, WriterResult } from './race.worker.js';
import { controlBuffer, runWorker, STOP } from './race-control.js';
import { chunksOf, type RaceSpec } from './race-layout.js';

const PAGE = 4096;
const NAMES = ['aaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbb'];
const AWAY = 0x3_0000_0000;
const NAMED = 16;

interface HazardSetup {
  spec: RaceSpec;
  round: WriterData['round'];
  states: string[][];
}

/** The layout, the writer's round, and the lines of every state the round passes through. */
function setup(): HazardSetup {
  const globals = MmGlobals.create({ maxFiles: 1024, fileHeapBytes: 1 << 18, anonNameSlots: 256 });
  const rcu = RcuDomain.create();
  const mm = buildTemplate('minimal', { globals, seed: 5, grace: rcu, maxVmas: 4096 });
  // NAMED one-page VMAs with alternating prot (never merged) share one name: a rename moves them
  // all to a new name and frees the old one once the last of them lets go.
  const named = mmap(mm, 0, NAMED * PAGE, 3, MAP_PRIVATE | MAP_ANONYMOUS);
  assert.ok(named > 0);
  for (let i = 1; i < NAMED; i += 2) assert.equal(mprotect(mm, named + i * PAGE, PAGE, 1), 0);
  assert.equal(prctlSetVmaAnonName(mm, named, NAMED * PAGE, NAMES[0]), 0);
  let vdso = 0;
  let len = 0;
  for (const [s, e, id] of mm.index.entries()) {
    if (mm.vmas.ops(id) === OPS_VDSO) [vdso, len] = [s, e - s];
  }
  assert.ok(vdso > 0);
  const move = MREMAP_FIXED | MREMAP_MAYMOVE;
  const calls = [
    () => prctlSetVmaAnonName(mm, named, NAMED * PAGE, NAMES[1]),
    () => mremap(mm, vdso, len, len, move, AWAY),
    () => prctlSetVmaAnonName(mm, named, NAMED * PAGE, NAMES[0]),
    () => mremap(mm, AWAY, len, len, move, vdso),
  ];
  const round: WriterData['round'] = [
    { call: { op: 'anon_name', addr: named, len: NAMED * PAGE, name: NAMES[1] }, result: 0 },
    {
      call: { op: 'mremap', addr: vdso, oldLen: len, newLen: len, flags: move, newAddr: AWAY },
      result: AWAY,
    },
    { call: { op: 'anon_name', addr: named, len: NAMED * PAGE, name: NAMES[0] }, result: 0 },
    {
      call: { op: 'mremap', addr: AWAY, oldLen: len, newLen: len, flags: move, newAddr: vdso },
      result: vdso,
    },
  ];
  const linesNow = () => chunksOf(mm, 0).join('').slice(0, -1).split('\n');
  const initial = linesNow();
  const states = [initial];
  for (const [i, c] of calls.entries()) {
    assert.equal(c(), round[i].result);
    states.push(linesNow());
  }
  assert.deepEqual(states[4], initial, 'a round ends where it began');
  const spec: RaceSpec = {
    mod: 'split',
    mmBuffer: mm.buffer,
    globals: globals.buffers(),
    rcu: rcu.buffer,
    modify: round[0].call as never,
    restore: round[0].call as never,
    modifyResult: 0,
    restoreResult: 0,
    skip: -1,
    origLast: '',
    origFirst: '',
    modLast: '',
    modFirst: '',
    restoredLast: '',
    restoredFirst: '',
    beforeLines: initial,
    afterLines: initial,
    queryAddr: named,
    queryAnswers: [[named, named + PAGE]],
  };
  return { spec, round, states };
}

async function race(
  t: import('node:test').TestContext,
  strategy: 'lockless' | 'lockless_nofallback',
) {
  const { spec, round, states } = setup();
  const control = controlBuffer();
  const all = states.flat();
  const writer = runWorker<WriterResult>(t, {
    role: 'writer',
    control,
    mmBuffer: spec.mmBuffer,
    globals: spec.globals,
    rcu: spec.rcu,
    round,
  } satisfies WriterData);
  const readerData: ReaderData = {
    role: 'reader',
    control,
    strategies: [strategy],
    spec,
    allowed: [...new Set(all)],
    required: states[0].filter((l) => states.every((s) => s.includes(l))),
    minIterations: 200,
    minRounds: 200,
    capMs: 5000,
    needHazards: strategy === 'lockless_nofallback',
    queryNames: NAMES.map((n) => `[anon:${n}]`),
  };
  const readers = await Promise.all([
    runWorker<ReaderResult[]>(t, readerData),
    runWorker<ReaderResult[]>(t, readerData),
  ]);
  Atomics.store(control, STOP, 1);
  const w = await writer;
  assert.equal(w.bad, null);
  return readers.map((perReader) => perReader[0]);
}

test('lockless_nofallback: hazards are detected under name churn, no line is ever torn', async (t) => {
  const readers = await race(t, 'lockless_nofallback');
  let hazards = 0;
  for (const r of readers) {
    t.diagnostic(`${r.iterations} reads, ${r.rounds} rounds, ${JSON.stringify(r.stats)}`);
    assert.deepEqual(r.samples, [], `${r.failures} failures`);
    assert.equal(r.failures, 0);
    assert.deepEqual(r.stats.fallbacks.slice(1, 2), [0], 'no fancy fallback in this strategy');
    hazards += r.stats.hazards[0] + r.stats.hazards[1];
  }
  assert.ok(hazards > 0, 'the readers met freed name storage or dummy ops');
});

test('lockless: the same churn never reads name storage unprotected (no hazard)', async (t) => {
  const readers = await race(t, 'lockless');
  for (const r of readers) {
    t.diagnostic(`${r.iterations} reads, ${r.rounds} rounds, ${JSON.stringify(r.stats)}`);
    assert.deepEqual(r.samples, [], `${r.failures} failures`);
    assert.deepEqual(r.stats.hazards, [0, 0]);
    assert.ok(r.stats.contention > 0, 'the readers met the writer');
    assert.ok(r.stats.fallbacks[1] > 0, 'fancy VMAs were read under the lock');
  }
});
