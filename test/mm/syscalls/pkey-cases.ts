// The protection-key cases of pkey.test.ts: short anonymous-memory scripts in the differential
// script format (so the kernel-oracle helper can run them) whose outcome differs between a CPU
// with protection keys and one without. `PROT_EXEC | PROT_SEM` is how a script makes a `--x`
// VMA with key 0 on a PKU machine (only prot == PROT_EXEC takes the execute-only key).
//
// An outcome is, per call, its result (`r RESULT`) and then the VMAs in the sandbox after it, one
// `  START-END PERMS` line each with addresses relative to the sandbox base. The same text is produced from
// the kernel (record-pkey-fixture.ts, into test/fixtures/pkeys/) and from the engine
// (pkey.test.ts), and compared.

import type { Op } from '../../differential/script.js';
import { anon, mprotect, mremap, P, S } from '../../differential/script-builders.js';

const X = 0x4; // PROT_EXEC
const XSEM = 0x4 | 0x8; // PROT_EXEC | PROT_SEM: --x, but never the execute-only key
const RX = 0x5;
const MAYMOVE_FIXED = 0x3;

export interface PkeyCase {
  name: string;
  ops: Op[];
}

export const PKEY_CASES: readonly PkeyCase[] = [
  {
    // Two --x mappings side by side: merged on a CPU without keys, kept apart with them (the
    // second one has key 0).
    name: 'merge',
    ops: [anon(S, 2, X), anon(S + 2 * P, 2, XSEM), anon(S + 4 * P, 2, X)],
  },
  {
    // mprotect(PROT_EXEC|PROT_SEM) on the middle of an execute-only mapping: split in three with
    // keys, no change without.
    name: 'split',
    ops: [anon(S, 6, X), mprotect(S + 2 * P, 2, XSEM)],
  },
  {
    // mprotect into PROT_EXEC-only: the middle of a key-0 --x mapping takes the execute-only key
    // (split in three), then the rest does too (merged again).
    name: 'mprotect-into-exec-only',
    ops: [
      anon(S, 6, XSEM),
      mprotect(S + 2 * P, 2, X),
      anon(S + 8 * P, 2, RX),
      mprotect(S + 8 * P, 2, X),
      mprotect(S, 2, X),
      mprotect(S + 4 * P, 2, X),
    ],
  },
  {
    // mprotect out of PROT_EXEC-only: r-x and PROT_EXEC|PROT_SEM move an execute-only VMA back
    // to key 0, where it merges with key-0 neighbours; PROT_EXEC again takes the key back.
    name: 'mprotect-out-of-exec-only',
    ops: [
      anon(S, 4, X),
      anon(S + 4 * P, 2, XSEM),
      mprotect(S + 2 * P, 2, XSEM),
      mprotect(S, 2, RX),
      mprotect(S, 2, XSEM),
      mprotect(S + 2 * P, 4, X),
    ],
  },
  {
    // mremap of an execute-only VMA keeps its key: moved next to a key-0 --x mapping it stays
    // apart with keys (merges without); grown in place it keeps the key; moved next to another
    // execute-only VMA it merges on both machines.
    name: 'mremap-exec-only',
    ops: [
      anon(S, 2, X),
      anon(S + 8 * P, 2, XSEM),
      mremap(S, 2, 2, MAYMOVE_FIXED, S + 6 * P),
      anon(S + 20 * P, 2, X),
      mremap(S + 20 * P, 2, 3, 0),
      anon(S + 30 * P, 2, X),
      mremap(S + 20 * P, 3, 3, MAYMOVE_FIXED, S + 27 * P),
    ],
  },
];

/** The outcome lines of one call: its result, then the sandbox's VMAs (sandboxLine each). */
export function stepOutcome(result: number, sandbox: readonly string[]): string[] {
  return [`r ${result < 0 ? result : `0x${result.toString(16)}`}`, ...sandbox.map((l) => `  ${l}`)];
}

/** `START-END PERMS` relative to the sandbox, from a maps line inside it (else undefined). */
export function sandboxLine(mapsLine: string): string | undefined {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) /.exec(mapsLine);
  if (!m) return undefined;
  const start = Number.parseInt(m[1]!, 16);
  const end = Number.parseInt(m[2]!, 16);
  if (start < S || end > S + 0x100 * P) return undefined;
  return `${(start - S).toString(16)}-${(end - S).toString(16)} ${m[3]}`;
}

/** Parses a fixture file: `case NAME` blocks of outcome lines; `#` lines are comments. */
export function parseFixture(text: string): Map<string, string[]> {
  const cases = new Map<string, string[]>();
  let cur: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    if (line.startsWith('case ')) {
      cur = [];
      cases.set(line.slice(5), cur);
    } else if (cur) cur.push(line);
    else throw new Error(`fixture line outside a case: ${line}`);
  }
  return cases;
}

export function formatFixture(cases: ReadonlyMap<string, readonly string[]>): string {
  const out: string[] = [];
  for (const [name, lines] of cases) out.push(`case ${name}`, ...lines);
  return `${out.join('\n')}\n`;
}
