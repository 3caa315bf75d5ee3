// The harness finds and shrinks a mismatch: an "engine" that is the kernel itself except for one
// planted wrong answer must be reported at exactly that op, with a prefix that ends there.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runOracle } from '../oracle/oracle-binary.js';
import {
  compareOnce,
  type EngineReplay,
  rerunOnHostNoise,
  runDifferential,
} from './differential.js';
import { referencedOnly } from './host-noise.js';
import { formatScript, type Op, parseScript } from './script.js';
import { parseOracleOutput } from './transcript.js';

const S = 0x1000_0000_0000;
const ops: Op[] = [{ op: 'probe', addr: S }];
for (let i = 0; i < 40; i++) {
  ops.push({
    op: 'mmap',
    addr: S + i * 0x1000,
    len: 0x1000,
    prot: i % 2 ? 1 : 3,
    flags: 0x32,
    fd: -1,
    off: 0,
  });
  if (i % 10 === 9) ops.push({ op: 'check' });
}

/** The kernel's own transcript, with the result of op `bad` replaced (when the script has it). */
function plantedEngine(bad: number): EngineReplay {
  return async (script, _header, out) => {
    const body = parseOracleOutput((await runOracle(formatScript(script))).stdout).body;
    for (const line of body) out.push(line.startsWith(`r ${bad} `) ? `r ${bad} -12` : line);
  };
}

test('a planted wrong result is reported at its op with the shortest prefix', async () => {
  const bad = 23;
  const res = await runDifferential('harness-planted', ops, plantedEngine(bad), 'n/a');
  assert.ok(res.mismatch, 'the planted difference was not found');
  assert.equal(res.mismatch.diff.op, bad);
  // Ops 0..bad are needed: the prefix is bad + 1 ops long (a check appended).
  assert.equal(res.mismatch.prefixLength, bad + 1);
  const saved = parseScript(readFileSync(res.mismatch.scriptPath, 'utf8'));
  assert.deepEqual(saved.slice(0, bad + 1), ops.slice(0, bad + 1));
  assert.match(
    res.mismatch.report,
    /rerun the prefix: DIFF_SCRIPT=\.tmp\/differential\/harness-planted\.script/,
  );
  const planted = ops[bad]!;
  assert.equal(planted.op, 'mmap');
  const kernelLine = `r ${bad} 0x${planted.op === 'mmap' ? planted.addr.toString(16) : ''}`;
  assert.ok(res.mismatch.report.includes(`kernel:\n      ${kernelLine}\n`), res.mismatch.report);
  assert.ok(res.mismatch.report.includes(`engine:\n      r ${bad} -12\n`));
});

test('identical transcripts are not a mismatch', async () => {
  const res = await runDifferential('harness-same', ops, plantedEngine(-1), 'n/a');
  assert.equal(res.mismatch, undefined);
  assert.ok(res.lines > 40);
});

/** The kernel's transcript with the sandbox's `Referenced:` line changed in the first `wrong` runs. */
function referencedEngine(wrong: number): EngineReplay & { calls: number } {
  const engine = Object.assign(
    async (script: readonly Op[], _header: unknown, out: string[]) => {
      engine.calls++;
      const body = parseOracleOutput((await runOracle(formatScript(script))).stdout).body;
      // The sandbox's smaps block (the helper's own blocks are not compared).
      let changed = engine.calls > wrong;
      let inSandbox = false;
      for (const line of body) {
        if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) inSandbox = line.startsWith(`${S.toString(16)}-`);
        if (!changed && inSandbox && line.startsWith('Referenced:')) {
          out.push('Referenced:       999999 kB');
          changed = true;
        } else out.push(line);
      }
    },
    { calls: 0 },
  );
  return engine;
}

const touched: Op[] = [
  { op: 'probe', addr: S },
  { op: 'mmap', addr: S, len: 0x2000, prot: 3, flags: 0x32, fd: -1, off: 0 },
  { op: 'touch', addr: S, len: 0x2000, write: true },
  { op: 'check' },
];

test('a difference the kernel does not repeat is host noise; one in every run is real', async () => {
  const once = referencedEngine(1);
  const first = await compareOnce(touched, once);
  assert.ok(first.diff && referencedOnly(first.diff), 'the planted Referenced line differs');
  const noise = await rerunOnHostNoise(touched, once, first.diff, ['0: paddr']);
  assert.equal(noise.equal, true);
  assert.match(
    noise.note,
    /^host noise: run 1 differed at line \d+: .*DAMON.*; run 2 equal; host: kdamond 0: paddr running$/,
  );

  const always = referencedEngine(99);
  const d = (await compareOnce(touched, always)).diff!;
  const real = await rerunOnHostNoise(touched, always, d, []);
  assert.equal(real.equal, false, 'differs every time: a real difference');
  assert.equal(always.calls, 3, 'the first run and two reruns');
  assert.equal(real.note, 'differed in 3 runs (host: no kdamond)');
});
