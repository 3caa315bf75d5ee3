// Records the kernel's answers to the protection-key cases (pkey-cases.ts) on this machine, with
// the kernel-oracle helper, as the fixture for this machine's kind:
//
//   npm run build && node dist/test/mm/syscalls/record-pkey-fixture.js
//
// writes test/fixtures/pkeys/kernel-pku.txt on a host with protection keys and
// test/fixtures/pkeys/kernel-no-pku.txt on one without, with a header saying where and how.

import { writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { hostCapabilities } from '../../differential/host-capabilities.js';
import { formatScript, type Op } from '../../differential/script.js';
import { parseOracleOutput } from '../../differential/transcript.js';
import { repoRoot, runOracle } from '../../oracle/oracle-binary.js';
import { formatFixture, PKEY_CASES, sandboxLine, stepOutcome } from './pkey-cases.js';

/** Runs every case in the helper, a checkpoint after each call; the outcome lines by case. */
export async function kernelOutcomes(): Promise<Map<string, string[]>> {
  const cases = new Map<string, string[]>();
  for (const c of PKEY_CASES) {
    const script = c.ops.flatMap((o): Op[] => [o, { op: 'check' }]);
    const { body } = parseOracleOutput((await runOracle(formatScript(script))).stdout);
    const lines: string[] = [];
    let result = 0;
    for (let i = 0; i < body.length; i++) {
      const l = body[i]!;
      if (l.startsWith('r ')) result = Number(l.split(' ')[2]);
      if (l !== 'maps-begin') continue;
      const end = body.indexOf('maps-end', i);
      const sandbox = body.slice(i + 1, end).flatMap((m) => sandboxLine(m) ?? []);
      lines.push(...stepOutcome(result, sandbox));
      i = end;
    }
    cases.set(c.name, lines);
  }
  return cases;
}

export function fixtureName(pkeys: boolean): string {
  return pkeys ? 'kernel-pku.txt' : 'kernel-no-pku.txt';
}

if (process.argv[1]?.endsWith('record-pkey-fixture.js')) {
  const host = await hostCapabilities();
  const flags = host.cpuFlags.join(' ') || 'neither pku nor ospke';
  const header = [
    `# Kernel answers to test/mm/syscalls/pkey-cases.ts on a CPU ${host.pkeys ? 'with' : 'without'} protection keys.`,
    '# Recorded with `npm run build && node dist/test/mm/syscalls/record-pkey-fixture.js`, which runs',
    '# each case in the kernel-oracle helper (test/oracle/procfs-oracle.c) and keeps, per call, its',
    '# result and the sandbox VMAs after it (addresses relative to 0x100000000000).',
    `# Host: ${host.cpuModel}, Linux ${release()}, cpuinfo flags: ${flags};`,
    `# ${host.pkeysSource}; recorded ${new Date().toISOString().slice(0, 10)}.`,
  ].join('\n');
  const path = join(repoRoot(), 'test', 'fixtures', 'pkeys', fixtureName(host.pkeys));
  writeFileSync(path, `${header}\n${formatFixture(await kernelOutcomes())}`);
  process.stdout.write(`wrote ${path}\n`);
}
