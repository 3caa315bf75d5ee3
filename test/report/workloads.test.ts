/**
 * The workloads (bench/workloads): the layouts and their plans, every writer's cycle, every
 * reader under every strategy (with that strategy's own counters moving), and the torn-output
 * check. Single-threaded here (the writer protocol on the main thread is uncontended); the
 * real-thread run is the report smoke test.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BATCH_ADDRESSES,
  BATCH_DISTINCT,
  COLD_RANGE_BYTES,
  LARGE_LAYOUT_VMAS,
  LAYOUTS,
  NAMED_VMAS,
  READERS,
  WRITERS,
} from '../../bench/workloads/definitions.js';
import { batchAddresses, buildWorkload } from '../../bench/workloads/layout.js';
import { checkLines, makeReader, makeWriter, WRITER_CYCLE } from '../../bench/workloads/ops.js';
import { STRATEGIES } from '../../src/metrics/labels.js';
import { MmGlobals, type MmStruct } from '../../src/mm/mm-struct.js';
import { installWriterHooks } from '../../src/mm/mm-writer.js';
import { OPS_VDSO } from '../../src/mm/special-mappings.js';
import { SINGLE_THREADED_HOOKS, setVmaLockHooks } from '../../src/mm/syscalls/index.js';
import { readWholeMaps } from '../../src/procfs/maps-text.js';
import { createReaderContext, strategyByName } from '../../src/procfs/strategies/strategy.js';
import { directMapsWalker } from '../../src/procfs/vma-capture.js';
import { RcuDomain } from '../../src/sync/rcu.js';

const PAGE = 4096;
const mapsText = (mm: MmStruct) =>
  Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');

function workload(layout: (typeof LAYOUTS)[number] = 'node') {
  const globals = MmGlobals.create({ maxFiles: 4096, fileHeapBytes: 1 << 20, anonNameSlots: 1024 });
  const rcu = RcuDomain.create();
  return { rcu, ...buildWorkload(layout, globals, rcu) };
}

test("the workload names are the issue's", () => {
  assert.deepEqual(READERS, [
    'query_point',
    'query_point_name',
    'query_batch',
    'query_walk',
    'maps',
  ]);
  assert.deepEqual(WRITERS, ['none', 'cold', 'hot', 'names', 'close']);
  assert.deepEqual(LAYOUTS, ['node', 'jvm', 'vmas10k']);
});

test('batch: 3,244 sorted addresses of 464 distinct, all inside the text VMAs, deterministic', () => {
  const text: Array<[number, number]> = [
    [0x1000, 0x5000],
    [0x7f0000000000, 0x7f0000200000],
  ];
  const b = batchAddresses(text, 7);
  assert.equal(b.length, BATCH_ADDRESSES);
  assert.ok(new Set(b).size <= BATCH_DISTINCT && new Set(b).size > BATCH_DISTINCT / 2);
  for (let i = 1; i < b.length; i++) assert.ok(b[i - 1] <= b[i]);
  for (const a of b)
    assert.ok(
      text.some(([s, e]) => s <= a && a < e),
      a.toString(16),
    );
  assert.deepEqual(batchAddresses(text, 7), b);
});

for (const layout of LAYOUTS) {
  test(`${layout}: the plan names real VMAs and empty ranges`, () => {
    const { mm, plan } = workload(layout);
    assert.equal(plan.vmas, mm.index.count);
    if (layout === 'vmas10k')
      assert.ok(plan.vmas >= LARGE_LAYOUT_VMAS - 1 && plan.vmas <= LARGE_LAYOUT_VMAS + 200);
    const covering = (a: number) => {
      const id = mm.findVma(a);
      return id !== 0 && mm.vmas.start(id) <= a ? id : 0;
    };
    for (const [s, e] of plan.text) {
      const id = covering(s);
      assert.ok(
        id !== 0 &&
          mm.vmas.end(id) === e &&
          mm.vmas.file(id) !== 0 &&
          (mm.vmas.flags(id) & 4) !== 0,
      );
    }
    assert.ok(plan.text.some(([s, e]) => s === plan.hot.start && e === plan.hot.end));
    assert.notEqual(plan.hot.prots[0], plan.hot.prots[1]);
    assert.equal(mm.vmas.ops(covering(plan.vdso.start)), OPS_VDSO);
    const next = mm.findVma(plan.coldStart);
    assert.ok(
      next === 0 || mm.vmas.start(next) >= plan.coldStart + COLD_RANGE_BYTES,
      'cold range empty',
    );
    assert.equal(covering(plan.vdso.away), 0);
    assert.equal(covering(plan.closePage), 0);
    for (let i = 0; i < NAMED_VMAS; i++) {
      assert.notEqual(mm.vmas.anonName(covering(plan.namedStart + i * PAGE)), 0);
    }
  });
}

test('every writer changes the layout and a whole cycle restores it', () => {
  const { mm, plan } = workload();
  installWriterHooks(); // after building: the layout is built single-threaded, without locks
  const before = mapsText(mm);
  for (const name of WRITERS) {
    if (name === 'none') continue;
    const w = makeWriter(name, mm, plan, { recorder: null, strategy: 1 }, 3);
    w.run();
    assert.notEqual(mapsText(mm), before, `${name} changed nothing`);
    for (let i = 0; i < 3 * WRITER_CYCLE[name]; i++) w.run();
    w.finish();
    assert.equal(mapsText(mm), before, `${name} left the layout changed`);
  }
  setVmaLockHooks(SINGLE_THREADED_HOOKS);
});

test("every reader under every strategy: bytes out, nothing torn, the strategy's own counters", () => {
  const { mm, plan, rcu } = workload();
  for (const s of STRATEGIES) {
    const ctx = createReaderContext({ rcu, recorder: null });
    for (const reader of READERS) {
      ctx.stats.reset();
      const op = makeReader(reader, strategyByName(s), ctx, mm, plan, false, 5);
      let bytes = 0;
      for (let i = 0; i < 3; i++) bytes += op.run();
      assert.equal(op.torn, 0, `${s}/${reader}`);
      assert.ok(bytes >= 3 * 104, `${s}/${reader}: ${bytes} bytes`);
      const st = ctx.stats;
      if (s === 'mmap_lock') assert.ok(st.mmapLocks >= 3, `${s}/${reader}`);
      else if (reader !== 'maps' && reader !== 'query_walk') {
        // Point queries of text VMAs: no fancy VMA, no writer: no lock, no retry.
        assert.equal(st.mmapLocks, 0, `${s}/${reader}`);
        assert.ok(st.attempts > 0, `${s}/${reader}: speculation or VMA-lock attempts`);
      }
      if (s === 'lockless' && (reader === 'maps' || reader === 'query_walk')) {
        assert.ok(st.fallbacks[1] > 0, 'lockless reads fancy VMAs ([vdso], named) under the lock');
      }
      assert.equal(st.retries, 0, `${s}/${reader}: no writer, no retry`);
    }
  }
});

test('the maps check flags malformed lines and ends that go backwards', () => {
  const ok =
    '00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\n00652000-00653000 r--p 00052000 08:02 173521 /usr/bin/x\n';
  const count = (text: string, last = -1) => {
    const op = { torn: 0 };
    checkLines(new Uint8Array(Buffer.from(text, 'latin1')), last, op);
    return op.torn;
  };
  assert.equal(count(ok), 0);
  assert.equal(count(ok, 0x00452000), 1, 'a chunk may not restart below the previous end');
  assert.equal(count('00400000-00452000 r-xp 0000'), 1);
  assert.equal(
    count('00652000-00653000 r--p 00052000 08:02 1 a\n00400000-00452000 r-xp 00000000 08:02 1 b\n'),
    1,
  );
  assert.equal(count('00452000-00400000 r-xp 00000000 08:02 1 b\n'), 1);
});
