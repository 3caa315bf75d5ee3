// Seeded random scripts, kernel vs engine. Defaults: seeds 1..10, 600 ops each (570 calls + checkpoints: ≥ 5,000 calls per
// run). DIFF_SEED=N (or "random") and DIFF_OPS=N run one script; DIFF_SCRIPT=path replays a saved
// one (e.g. the shortest failing prefix a mismatch wrote to .tmp/differential/).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';
import { probeHost, runDifferential } from './differential.js';
import { engineReplay } from './engine-transcript.js';
import { describeHost, hostCapabilities } from './host-capabilities.js';
import { generateScript, type ScriptLayout } from './random-script.js';
import { type Op, parseScript } from './script.js';

const DEFAULT_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const DEFAULT_OPS = 600;

const host = await probeHost();
const caps = await hostCapabilities();
const vvarLine = host.initialMaps.split('\n').find((l) => l.endsWith(' [vvar]'));
const stackLine = host.initialMaps.split('\n').find((l) => l.endsWith(' [stack]'));
const vdsoLine = host.initialMaps.split('\n').find((l) => l.endsWith(' [vdso]'));
assert.ok(vvarLine && stackLine && vdsoLine, 'the helper has [vvar], [vdso] and [stack]');
const layout: ScriptLayout = {
  startBrk: host.stat.start_brk!,
  brk: host.stat.brk!,
  windowEnd: Number.parseInt(vvarLine.split('-')[0]!, 16),
  anonNames: host.anonVmaName,
  stackStart: Number.parseInt(stackLine.split('-')[0]!, 16),
  mmapBase: Number.parseInt(vdsoLine.split('-')[1]!, 16),
};

interface Job {
  name: string;
  ops: Op[];
  rerun: string;
}

function jobs(): Job[] {
  const env = process.env;
  if (env.DIFF_SCRIPT) {
    const path = env.DIFF_SCRIPT;
    return [
      {
        name: `replay ${basename(path).replace(/\.script$/, '')}`,
        ops: parseScript(readFileSync(path, 'utf8')),
        rerun: `DIFF_SCRIPT=${path} npm run test:differential`,
      },
    ];
  }
  const count = env.DIFF_OPS ? Number(env.DIFF_OPS) : DEFAULT_OPS;
  let seeds = DEFAULT_SEEDS;
  if (env.DIFF_SEED === 'random') seeds = [Math.floor(Math.random() * 2 ** 31)];
  else if (env.DIFF_SEED) seeds = [Number(env.DIFF_SEED)];
  return seeds.map((seed) => ({
    name: `seed ${seed}`,
    ops: generateScript(seed, count, layout),
    rerun: `DIFF_SEED=${seed} DIFF_OPS=${count} npm run test:differential`,
  }));
}

const planned = jobs();
const totalCalls = planned.reduce(
  (n, j) => n + j.ops.filter((o) => o.op !== 'probe' && o.op !== 'check').length,
  0,
);

test('random differential scripts cover every op kind and at least 5,000 calls', (t) => {
  for (const l of describeHost(caps)) t.diagnostic(l);
  if (!host.anonVmaName) {
    t.diagnostic(
      'host kernel lacks CONFIG_ANON_VMA_NAME: anon-name ops left out of the random scripts',
    );
  }
  t.diagnostic(`${planned.length} scripts, ${totalCalls} calls`);
  const custom = process.env.DIFF_SCRIPT || process.env.DIFF_SEED || process.env.DIFF_OPS;
  if (custom) return; // a reproduction run: whatever the user asked for
  assert.ok(totalCalls >= 5000, `only ${totalCalls} calls`);
  const kinds = new Set(planned.flatMap((j) => j.ops.map((o) => o.op)));
  const expected = [
    'mmap',
    'munmap',
    'mprotect',
    'mremap',
    'brk',
    'madvise',
    'fork',
    'forkchild',
    'unlink',
    'touch',
    'check',
  ];
  if (host.anonVmaName) expected.push('anon');
  for (const k of expected) assert.ok(kinds.has(k as Op['op']), `no ${k} op generated`);
});

for (const job of planned) {
  test(`random differential ${job.name}`, async (t) => {
    t.diagnostic(`rerun: ${job.rerun}`);
    const res = await runDifferential(
      job.name.replace(/\s+/g, '-'),
      job.ops,
      engineReplay,
      job.rerun,
    );
    t.diagnostic(`${res.ops} ops, ${res.lines} transcript lines compared`);
    if (res.hostNoise) t.diagnostic(res.hostNoise);
    if (res.mismatch) assert.fail(res.mismatch.report);
    assert.ok(res.lines > 0);
  });
}
