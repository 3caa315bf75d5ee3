// The machine the differential tests compare against: what it has (printed in the test output),
// that the service's own `--pkeys host` detection agrees with the kernel, and that the host
// meets the simulated kernel's fixed build options and sysctls.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostHasPkeys } from '../../src/machine-caps.js';
import { describeHost, hostCapabilities, hostPreconditionProblems } from './host-capabilities.js';

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
