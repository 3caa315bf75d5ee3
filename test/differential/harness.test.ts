// The harness finds and shrinks a mismatch: an "engine" that is the kernel itself except for one
// planted wrong answer must be reported at exactly that op, with a prefix that ends there.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runOracle } from '../oracle/oracle-binary.js';
import { type EngineReplay, runDifferential } from './differential.js';
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
