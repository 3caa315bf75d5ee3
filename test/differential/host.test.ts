// The machine the differential tests compare against: what it has (printed in the test output),
// that the service's own `--pkeys host` detection agrees with the kernel, and that the host
// meets the simulated kernel's fixed build options and sysctls; smaps' ProtectionKey lines.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostHasPkeys } from '../../src/machine-caps.js';
import { EINVAL } from '../../src/mm/errno.js';
import { compareOnce } from './differential.js';
import { engineReplay } from './engine-transcript.js';
import { describeHost, hostCapabilities, hostPreconditionProblems } from './host-capabilities.js';
import { mapsRanges } from './memory-compare.js';
import type { Op } from './script.js';
import { anon, check, P, R, S } from './script-builders.js';
import { normaliseBody } from './transcript.js';

const host = await hostCapabilities();

test('host capabilities (detected, printed)', (t) => {
  for (const line of describeHost(host)) t.diagnostic(line);
  if (!host.pkeys) {
    t.diagnostic(
      'no protection keys here: the PKU branch is checked against the kernel rules in test/mm/syscalls/pkey.test.ts',
    );
  }
  if (!host.anonVmaName) {
    t.diagnostic(
      'no CONFIG_ANON_VMA_NAME here: anon names are checked against the kernel rules in test/mm/',
    );
  }
  assert.ok(host.maxMapCount > 0, 'the helper read vm.max_map_count');
});

test("the service's --pkeys host detection (/proc/cpuinfo ospke) agrees with the kernel", (t) => {
  t.diagnostic(`kernel: ${host.pkeysSource}; /proc/cpuinfo ospke: ${hostHasPkeys()}`);
  assert.equal(hostHasPkeys(), host.pkeys);
});

test("the host meets the simulated kernel's build options and sysctls", () => {
  const problems = hostPreconditionProblems(host);
  assert.deepEqual(
    problems,
    [],
    `this host differs from the modelled kernel:\n${problems.join('\n')}`,
  );
});

// smaps has a `ProtectionKey:` line (after THPeligible, "%8u") only on a CPU with protection keys
// (arch_pkeys_enabled()): an execute-only VMA shows the mm's execute-only key (1), any other 0.
// The sandbox's smaps blocks are compared byte for byte, so on a PKU host the lines are compared.
const X = 0x4; // PROT_EXEC alone
const PKU_LINES = ['ProtectionKey:         1', 'ProtectionKey:         0'];
test('smaps ProtectionKey lines follow the host (compared on a PKU host)', async (t) => {
  const ops: Op[] = [
    anon(S, 2, X),
    anon(S + 4 * P, 2, R),
    { op: 'touch', addr: S + 4 * P, len: P, write: false },
    check,
  ];
  const run = await compareOnce(ops, engineReplay);
  const keyLines = (lines: string[]) => lines.filter((l) => l.startsWith('ProtectionKey:'));
  const kernel = keyLines(run.oracle);
  t.diagnostic(
    `host protection keys: ${host.pkeys ? 'yes' : 'no'}; kernel ProtectionKey lines in the sandbox: ${JSON.stringify(kernel)}`,
  );
  if (host.pkeys) {
    assert.deepEqual(kernel, PKU_LINES);
  } else {
    assert.deepEqual(kernel, []);
  }
  assert.deepEqual(keyLines(run.engine), kernel);
  assert.equal(run.diff, undefined, JSON.stringify(run.diff));
  // The engine as the other kind of CPU (--pkeys on/off): the lines a PKU kernel prints, or none.
  const other: string[] = [];
  engineReplay(ops, { ...run.header, pkeyAlloc: host.pkeys ? -EINVAL : 1 }, other);
  const otherLines = keyLines(normaliseBody(other, mapsRanges(run.header.initialMaps)));
  t.diagnostic(`engine as a ${host.pkeys ? 'non-' : ''}PKU CPU: ${JSON.stringify(otherLines)}`);
  assert.deepEqual(otherLines, host.pkeys ? [] : PKU_LINES);
});
