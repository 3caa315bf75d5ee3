// The protection-key capability travels with the process: set by the service (`pkeys` option) or
// per process at creation, inherited by fork, and seen by whichever thread runs the syscalls
// (worker CPUs, or the event loop with --cpus 0). The observable difference: on a CPU with PKU,
// mprotect(PROT_EXEC|PROT_SEM) on the middle of an execute-only mapping gives that part key 0, so
// it splits in three; without PKU nothing changes and the mapping stays one VMA.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import type { SimApi, SyscallCall } from '../../src/cpus/sim-api.js';

const S = 0x1000_0000_0000;
const P = 0x1000;
const PROT_EXEC = 0x4;
const PROT_SEM = 0x8;
const ANON_FIXED = 0x32; // MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED

const calls: SyscallCall[] = [
  { op: 'mmap', addr: S, length: 3 * P, prot: PROT_EXEC, flags: ANON_FIXED, offset: 0, file: null },
  { op: 'mprotect', addr: S + P, length: P, prot: PROT_EXEC | PROT_SEM },
];

async function sandboxLines(sim: SimApi, pid: number): Promise<string[]> {
  const parts: Buffer[] = [];
  for await (const c of await sim.readMaps(pid, { chunk: 0 })) parts.push(Buffer.from(c));
  return Buffer.concat(parts)
    .toString('latin1')
    .split('\n')
    .filter((l) => l.startsWith('100000'))
    .map((l) => l.split(' ')[0]!);
}

const THREE = [
  '100000000000-100000001000',
  '100000001000-100000002000',
  '100000002000-100000003000',
];
const ONE = ['100000000000-100000003000'];

const start = (cpus: number) => (pkeys: boolean) =>
  Sim.start({
    strategy: 'per_vma',
    cpus,
    maxProcesses: 8,
    maxVmasPerProcess: 1024,
    maxBatch: 64,
    population: 0,
    pkeys,
  });
const sims: Array<[string, (pkeys: boolean) => Promise<Sim>]> = [
  ['worker CPUs', start(1)],
  ['event loop', start(0)],
];

for (const [kind, start] of sims) {
  for (const machine of [true, false]) {
    describe(`${kind}, service --pkeys ${machine ? 'on' : 'off'}`, () => {
      let sim: SimApi & { close(): Promise<void> };
      before(async () => {
        sim = await start(machine);
      });
      after(() => sim.close());

      test('GET /config reports the capability', () => {
        assert.equal(sim.getConfig().pkeys, machine);
      });

      for (const own of [undefined, !machine]) {
        const pkeys = own ?? machine;
        const label = own === undefined ? 'the default' : `"pkeys": ${own}`;
        test(`a process created with ${label} behaves as a ${pkeys ? 'PKU' : 'non-PKU'} CPU, and so does its fork child`, async () => {
          const { pid } = await sim.createProcess({ template: 'minimal', pkeys: own });
          assert.equal((await sim.inspectProcess(pid)).pkeys, pkeys);
          const child = (await sim.forkProcess(pid)).pid;
          assert.equal((await sim.inspectProcess(child)).pkeys, pkeys);
          for (const p of [pid, child]) {
            const results = await sim.syscalls(p, calls);
            assert.deepEqual(results, [S, 0]);
            assert.deepEqual(await sandboxLines(sim, p), pkeys ? THREE : ONE);
          }
        });
      }
    });
  }
}

test('the zero page follows the kernel command line (pvm_no_zero_page)', async () => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { hostHasZeroPage } = await import('../../src/machine-caps.js');
  const dir = mkdtempSync(join(tmpdir(), 'cmdline-'));
  const file = (text: string) => {
    const f = join(dir, `c${text.length}`);
    writeFileSync(f, text);
    return f;
  };
  assert.equal(hostHasZeroPage(file('console=ttyS0 quiet\n')), true);
  assert.equal(hostHasZeroPage(file('quiet pvm_no_zero_page=1 tsc=unstable\n')), false);
  assert.equal(hostHasZeroPage(join(dir, 'missing')), true);
  console.log(`# host zero page for read faults: ${hostHasZeroPage() ? 'yes' : 'no'}`);
});
