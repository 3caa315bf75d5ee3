/**
 * The kernel twin's output (bench/report/kernel-twin.ts): its writer-beside-a-sibling windows
 * are taken apart from the samples, paired with the same repetition's writer alone, and summed
 * up per writer; the report's note says what they show.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseKbenchPairs,
  type SiblingControl,
  siblingControl,
  siblingNote,
} from '../../bench/report/kernel-twin.js';

const line = (o: Record<string, unknown>) => JSON.stringify(o);
const w = (ops: number) => ({ ops, seconds: 1, p99_ns: 1000 });
const wSlept = (ops: number, sleeps: number) => ({ ...w(ops), sleeps });

function output(): string {
  const lines: string[] = [];
  // Two repetitions; the cold writer loses 3/4 beside the sibling, the hot one nothing.
  for (const [rep, beside] of [
    [0, 25],
    [1, 30],
  ] as const) {
    lines.push(
      line({
        kind: 'sibling_alone',
        reader: 'sibling',
        writer: 'none',
        hot: 0,
        rep,
        tlb: 0,
        r: w(10),
        w: null,
      }),
    );
    lines.push(
      line({
        kind: 'writer_alone',
        reader: 'none',
        writer: 'cold',
        hot: 0,
        rep,
        tlb: 0,
        r: null,
        w: w(100),
      }),
    );
    lines.push(
      line({
        kind: 'writer_beside_sibling',
        reader: 'sibling',
        writer: 'cold',
        hot: 0,
        rep,
        tlb: beside / 2,
        r: w(7),
        w: w(beside),
      }),
    );
    lines.push(
      line({
        kind: 'writer_alone',
        reader: 'none',
        writer: 'hot',
        hot: 0,
        rep,
        tlb: -1,
        r: null,
        w: w(50),
      }),
    );
    lines.push(
      line({
        kind: 'writer_beside_sibling',
        reader: 'sibling',
        writer: 'hot',
        hot: 0,
        rep,
        tlb: -1,
        r: w(7),
        w: w(50),
      }),
    );
    lines.push(
      line({
        kind: 'pair',
        reader: 'maps',
        writer: 'cold',
        hot: 0,
        rep,
        tlb: 9,
        r: wSlept(10, 4),
        w: wSlept(20, rep),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

test('sibling windows are paired with the writer alone of the same repetition, not samples', () => {
  const { samples, sibling, unsupported } = parseKbenchPairs(output());
  assert.deepEqual(unsupported, []);
  assert.deepEqual(
    samples.map((s) => s.kind),
    ['writer_alone', 'writer_alone', 'pair', 'writer_alone', 'writer_alone', 'pair'],
  );
  assert.ok(samples.every((s) => s.strategy === 'kernel' && s.reader !== ('sibling' as never)));
  assert.equal(sibling.length, 4);
  const cold1 = sibling.find((x) => x.writer === 'cold' && x.rep === 1);
  assert.deepEqual(cold1?.alone, { ops: 100, seconds: 1, p99Ns: 1000 });
  assert.deepEqual(cold1?.beside, { ops: 30, seconds: 1, p99Ns: 1000 });
  // The sibling's loop beside this writer, and alone in the same repetition.
  assert.equal(cold1?.siblingBeside?.ops, 7);
  assert.equal(cold1?.siblingAlone?.ops, 10);
  assert.equal(cold1?.tlbBeside, 15);
  // -1: the host does not count TLB shootdowns.
  assert.equal(sibling.find((x) => x.writer === 'hot')?.tlbAlone, null);
});

test("each thread's sleeps (its voluntary context switches) travel with its window", () => {
  const { samples } = parseKbenchPairs(output());
  const pairs = samples.filter((s) => s.kind === 'pair');
  assert.deepEqual(
    pairs.map((s) => [s.rep, s.r?.sleeps, s.w?.sleeps]),
    [
      [0, 4, 0],
      [1, 4, 1],
    ],
  );
  // An older kbench printed no count: the window then has none (not 0).
  const alone = samples.find((s) => s.kind === 'writer_alone');
  assert.equal(alone?.w?.sleeps, undefined);
  assert.ok(alone?.w && !('sleeps' in alone.w));
});

test('per writer: the median ratio and TLB shootdowns per 1,000 writes', () => {
  const c = siblingControl(parseKbenchPairs(output()).sibling);
  const cold = c.find((x) => x.writer === 'cold') as SiblingControl;
  const hot = c.find((x) => x.writer === 'hot') as SiblingControl;
  // Medians of two: the mean of both, as every other figure's (0.25 and 0.30 → 0.275; 500 per
  // 1k both times).
  assert.equal(cold.writer_vs_alone, 0.275);
  assert.equal(cold.tlb_per_1k_beside, 500);
  assert.equal(cold.tlb_per_1k_alone, 0);
  assert.equal(cold.sibling_vs_alone, 0.7);
  assert.equal(hot.writer_vs_alone, 1);
  assert.equal(hot.tlb_per_1k_beside, null);
  assert.match(
    siblingNote(cold),
    /cold writer .*: the writer 0\.28× alone, the sibling 0\.70× its own rate alone \(TLB shootdown interrupts per 1,000 writes: 500, alone 0\): .*every kernel row/,
  );
  // The hot writer's sibling also ran at 0.7×: the note says what that costs.
  assert.match(
    siblingNote(hot),
    /^its hot writer .*: the writer 1\.00× alone, the sibling 0\.70× .*every kernel row/,
  );
  assert.equal(
    siblingNote({ ...hot, sibling_vs_alone: 0.95 }),
    'its hot writer beside a sibling thread doing private arithmetic, no reader: the writer 1.00× alone, the sibling 0.95× its own rate alone.',
  );
});
