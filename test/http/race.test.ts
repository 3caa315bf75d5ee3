/**
 * Concurrency through HTTP: many parallel chunked maps reads, under every strategy, while the same
 * process churns a region (split / merge / replace) as fast as it can. Every reply must be whole,
 * well-formed lines ending with [vsyscall]; every VMA outside the churned region appears exactly
 * once and in order (none skipped, none duplicated); churned-region lines are lines of one of the
 * region's states. The churn must really interleave with the reads (both states are observed).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { type SimApi, STRATEGIES } from '../../src/cpus/sim-api.js';
import { appWith, testConfig } from './helpers.js';

/** An empty gap between the libraries and the stack: its lines fall in a late chunk. */
const R = 0x7ff000000000;
const hexr = (a: number, b: number) => `${a.toString(16)}-${b.toString(16)}`;
const MERGED = `${hexr(R, R + 0x3000)} rw-p 00000000 00:00 0 `;
const SPLIT = [
  `${hexr(R, R + 0x1000)} rw-p 00000000 00:00 0 `,
  `${hexr(R + 0x1000, R + 0x2000)} r--p 00000000 00:00 0 `,
  `${hexr(R + 0x2000, R + 0x3000)} rw-p 00000000 00:00 0 `,
];
const REGION_LINES = new Set([MERGED, ...SPLIT]);
const LINE =
  /^[0-9a-f]{8,16}-[0-9a-f]{8,16} [r-][w-][x-][ps] [0-9a-f]{8} [0-9a-f]{2}:[0-9a-f]{2} \d+ ( {0,72}\S.*)?$/;

const SIMS: Array<[string, () => Promise<SimApi>]> = [
  // Worker CPUs: the event loop reads (the default) while the activity thread writes, in
  // parallel on shared memory.
  [
    'event-loop reads beside worker CPUs',
    () => Sim.start({ ...testConfig(), cpus: 2, population: 1 }),
  ],
  // Reads dispatched to the worker CPUs too (--reads workers).
  ['worker CPUs', () => Sim.start({ ...testConfig(), cpus: 2, reads: 'workers', population: 1 })],
  // The event loop: the activity runs between the readers' requests.
  ['event loop', () => Sim.start({ ...testConfig(), cpus: 0, population: 1 })],
];

/** Resolves at the sim's next mutation. */
function nextMutation(sim: SimApi): Promise<void> {
  return new Promise<void>((resolve) => {
    const off = sim.onMutation(() => {
      off();
      resolve();
    });
  });
}

for (const [name, makeSim] of SIMS)
  test(`${name}: parallel chunked maps reads race a busy process; the invariants hold`, async () => {
    const sim = await makeSim();
    const app = await appWith(sim);
    const pid = 1;
    const stable = (await app.inject({ method: 'GET', url: `/proc/${pid}/maps` })).body
      .trimEnd()
      .split('\n');
    const loop = [
      {
        op: 'mmap',
        addr: `0x${R.toString(16)}`,
        length: '0x3000',
        prot: 'rw-',
        flags: ['private', 'anonymous', 'fixed'],
      },
      { op: 'mprotect', addr: `0x${(R + 0x1000).toString(16)}`, length: '0x1000', prot: 'r--' },
      { op: 'mprotect', addr: `0x${(R + 0x1000).toString(16)}`, length: '0x1000', prot: 'rw-' },
    ];
    const started = nextMutation(sim);
    const put = await app.inject({
      method: 'PUT',
      url: `/processes/${pid}/activity`,
      payload: { loop },
    });
    assert.equal(put.statusCode, 200);
    await started;

    let sawMerged = 0;
    let sawSplit = 0;
    // Rounds of 40 parallel readers until both states were seen (bounded): on a loaded machine the
    // activity thread can sit descheduled through a whole round, so between rounds the test waits
    // for its next mutation rather than for time.
    for (let round = 0; round < 50 && !(sawMerged > 0 && sawSplit > 0); round++) {
      if (round > 0) await nextMutation(sim);
      const readers = [];
      // Different chunk sizes put the churned region in different chunks, i.e. different windows.
      for (let i = 0; i < 40; i++) {
        const strategy = STRATEGIES[i % STRATEGIES.length];
        readers.push(
          app.inject({
            method: 'GET',
            url: `/proc/${pid}/maps?chunk=${200 + 97 * i}&strategy=${strategy}`,
          }),
        );
      }
      for (const r of await Promise.all(readers)) {
        assert.equal(r.statusCode, 200);
        assert.ok(r.body.endsWith('\n'));
        const lines = r.body.trimEnd().split('\n');
        for (const l of lines) assert.match(l, LINE);
        const outside = lines.filter((l) => !REGION_LINES.has(l));
        assert.deepEqual(
          outside,
          stable,
          'a VMA outside the churned region was skipped or duplicated',
        );
        const inside = lines.filter((l) => REGION_LINES.has(l));
        if (inside.includes(MERGED)) sawMerged++;
        if (inside.includes(SPLIT[1])) sawSplit++;
      }
    }
    const activity = (
      await app.inject({ method: 'GET', url: `/processes/${pid}/activity` })
    ).json();
    assert.ok(activity.calls > 100, `the activity ran ${activity.calls} calls only`);
    assert.equal(activity.errors, 0);
    assert.ok(sawMerged > 0 && sawSplit > 0, `states seen: merged ${sawMerged}, split ${sawSplit}`);
    await app.close();
  });
