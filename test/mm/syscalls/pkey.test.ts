// Protection keys, both machines: the engine with `pkeys` on and off against the kernel's answers
// for each kind of CPU (test/fixtures/pkeys/: kernel-no-pku.txt recorded with the oracle helper,
// kernel-pku.txt written from the kernel's rules; each file says how). The fixture of the kind of
// machine this test runs on is also re-checked against the live kernel, so it cannot go stale.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importMaps } from '../../../src/mm/import-maps.js';
import { MmGlobals, MmStruct } from '../../../src/mm/mm-struct.js';
import { exitMm, forkMm, mmap, mprotect, mremap } from '../../../src/mm/syscalls/index.js';
import { VM_PKEY_EXEC_ONLY } from '../../../src/mm/syscalls/pkey.js';
import { readWholeMaps } from '../../../src/procfs/maps-text.js';
import { directMapsWalker } from '../../../src/procfs/vma-capture.js';
import { describeHost, hostCapabilities } from '../../differential/host-capabilities.js';
import type { Op } from '../../differential/script.js';
import { repoRoot } from '../../oracle/oracle-binary.js';
import { PKEY_CASES, parseFixture, sandboxLine, stepOutcome } from './pkey-cases.js';
import { fixtureName, kernelOutcomes } from './record-pkey-fixture.js';

const S = 0x1000_0000_0000;
const P = 0x1000;

function fixture(pkeys: boolean): Map<string, string[]> {
  const path = join(repoRoot(), 'test', 'fixtures', 'pkeys', fixtureName(pkeys));
  return parseFixture(readFileSync(path, 'utf8'));
}

function newMm(pkeys: boolean): MmStruct {
  const globals = MmGlobals.create({ maxFiles: 16, fileHeapBytes: 1 << 12, anonNameSlots: 16 });
  const mm = MmStruct.create({ maxVmas: 1024, globals, pkeys });
  mm.mmapBase = 0x7fff_f7ff_f000;
  return mm;
}

function sandbox(mm: MmStruct): string[] {
  const text = Buffer.from(readWholeMaps(directMapsWalker(mm))).toString('latin1');
  return text.split('\n').flatMap((l) => sandboxLine(l) ?? []);
}

function run(mm: MmStruct, o: Op): number {
  switch (o.op) {
    case 'mmap':
      return mmap(mm, o.addr, o.len, o.prot, o.flags);
    case 'mprotect':
      return mprotect(mm, o.addr, o.len, o.prot);
    case 'mremap':
      return mremap(mm, o.addr, o.oldLen, o.newLen, o.flags, o.newAddr);
    default:
      throw new Error(`pkey cases use mmap/mprotect/mremap only, not ${o.op}`);
  }
}

function engineOutcome(pkeys: boolean, ops: readonly Op[]): string[] {
  const mm = newMm(pkeys);
  return ops.flatMap((o) => stepOutcome(run(mm, o), sandbox(mm)));
}

for (const pkeys of [true, false]) {
  const expected = fixture(pkeys);
  for (const c of PKEY_CASES) {
    test(`${c.name}: the engine ${pkeys ? 'with' : 'without'} protection keys answers as the kernel on such a CPU`, () => {
      assert.deepEqual(engineOutcome(pkeys, c.ops), expected.get(c.name));
    });
  }
}

test('every case tells the two machines apart (each really exercises the key)', () => {
  const pku = fixture(true);
  const plain = fixture(false);
  assert.deepEqual(
    [...pku.keys()],
    PKEY_CASES.map((c) => c.name),
  );
  assert.deepEqual(
    [...plain.keys()],
    PKEY_CASES.map((c) => c.name),
  );
  for (const c of PKEY_CASES) assert.notDeepEqual(pku.get(c.name), plain.get(c.name), c.name);
});

test("this host's kernel still gives the recorded answers for its kind of CPU", async (t) => {
  const host = await hostCapabilities();
  for (const l of describeHost(host)) t.diagnostic(l);
  t.diagnostic(`comparing with test/fixtures/pkeys/${fixtureName(host.pkeys)}`);
  const live = await kernelOutcomes();
  const recorded = fixture(host.pkeys);
  for (const c of PKEY_CASES) assert.deepEqual(live.get(c.name), recorded.get(c.name), c.name);
});

test('the capability is in the arena: another view, a fork child and an import see it', () => {
  for (const pkeys of [true, false]) {
    const mm = newMm(pkeys);
    assert.equal(MmStruct.attach(mm.buffer, mm.globals).pkeys, pkeys);
    assert.equal(mmap(mm, S, 2 * P, 0x4, 0x32), S);
    const child = forkMm(mm);
    assert.equal(child.pkeys, pkeys);
    // In the child, PROT_EXEC|PROT_SEM on half the execute-only VMA splits it only with keys.
    assert.equal(mprotect(child, S + P, P, 0xc), 0);
    assert.equal(sandbox(child).length, pkeys ? 2 : 1);
    exitMm(child);
  }
});

test('an imported --x VMA has the execute-only key on a PKU mm, a [special] one never', () => {
  const text = [
    '100000000000-100000002000 --xp 00000000 00:00 0 ',
    '7ffff7ffd000-7ffff7fff000 --xp 00000000 00:00 0                          [vdso]',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
    '',
  ].join('\n');
  for (const pkeys of [true, false]) {
    const globals = MmGlobals.create({ maxFiles: 16, fileHeapBytes: 1 << 12, anonNameSlots: 16 });
    const mm = importMaps(text, { globals, pkeys });
    const flagsAt = (addr: number) => mm.vmas.flags(mm.vmaLookup(addr));
    assert.equal((flagsAt(S) & VM_PKEY_EXEC_ONLY) !== 0, pkeys);
    assert.equal(flagsAt(0x7fff_f7ff_d000) & VM_PKEY_EXEC_ONLY, 0);
    // A key-0 --x mapping right after it merges only without keys.
    assert.equal(mmap(mm, S + 2 * P, P, 0xc, 0x32), S + 2 * P);
    assert.deepEqual(sandbox(mm), pkeys ? ['0-2000 --xp', '2000-3000 --xp'] : ['0-3000 --xp']);
  }
});
