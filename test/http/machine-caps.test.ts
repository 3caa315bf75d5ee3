// `--pkeys host`: the service follows the `ospke` flag of /proc/cpuinfo (the kernel feature bit
// that decides whether execute-only mappings get a key). The differential test checks this
// detection against the kernel's own pkey_alloc answer on the machine it runs on; here the
// parsing is checked on both kinds of cpuinfo text.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cpuinfoHasOspke,
  hostHasPkeys,
  hostThpMode,
  resolvePkeys,
  resolveThp,
} from '../../src/machine-caps.js';

const cpu = (flags: string) =>
  `processor\t: 0\nvendor_id\t: X\nmodel name\t: Y\nflags\t\t: fpu vme ${flags} sse\nbugs\t\t: spectre_v1\n\n`;

test('cpuinfo: ospke (enabled by the kernel) means protection keys; pku alone does not', () => {
  assert.equal(cpuinfoHasOspke(cpu('pku ospke avx512f')), true);
  assert.equal(cpuinfoHasOspke(cpu('pku avx512f')), false);
  assert.equal(cpuinfoHasOspke(cpu('avx2 xsaves')), false);
  assert.equal(cpuinfoHasOspke(cpu('ospkex')), false);
  // ospke in another field (e.g. bugs/power management) is not a CPU flag
  assert.equal(cpuinfoHasOspke('flags\t: fpu\nbugs\t: ospke\n'), false);
  // arm64 has no x86 protection keys
  assert.equal(cpuinfoHasOspke('Features\t: fp asimd evtstrm\n'), false);
});

test('host detection reads the given cpuinfo file; an unreadable one means no keys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cpuinfo-'));
  try {
    writeFileSync(join(dir, 'yes'), cpu('pku ospke'));
    writeFileSync(join(dir, 'no'), cpu('sse4_2'));
    assert.equal(hostHasPkeys(join(dir, 'yes')), true);
    assert.equal(hostHasPkeys(join(dir, 'no')), false);
    assert.equal(hostHasPkeys(join(dir, 'missing')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on and off ignore the host; host asks it', () => {
  let asked = 0;
  const host = (answer: boolean) => () => {
    asked++;
    return answer;
  };
  assert.equal(resolvePkeys('on', host(false)), true);
  assert.equal(resolvePkeys('off', host(true)), false);
  assert.equal(asked, 0);
  assert.equal(resolvePkeys('host', host(true)), true);
  assert.equal(resolvePkeys('host', host(false)), false);
  assert.equal(asked, 2);
});

test('--thp host reads the bracketed mode of transparent_hugepage/enabled; none (no THP) is never', () => {
  const dir = mkdtempSync(join(tmpdir(), 'thp-'));
  try {
    writeFileSync(join(dir, 'madvise'), 'always [madvise] never\n');
    writeFileSync(join(dir, 'always'), '[always] madvise never\n');
    writeFileSync(join(dir, 'never'), 'always madvise [never]\n');
    for (const m of ['madvise', 'always', 'never']) assert.equal(hostThpMode(join(dir, m)), m);
    assert.equal(hostThpMode(join(dir, 'missing')), 'never');
    let asked = 0;
    const host = () => {
      asked++;
      return 'always' as const;
    };
    assert.equal(resolveThp('never', host), 'never');
    assert.equal(resolveThp('madvise', host), 'madvise');
    assert.equal(asked, 0);
    assert.equal(resolveThp('host', host), 'always');
    assert.equal(asked, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
