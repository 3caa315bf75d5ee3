// Kernel-side state a script does not decide, which a differential run may meet by chance.
//
// DAMON: a host running a kdamond with physical-address monitoring (this kind of machine runs
// one, `paddr` with a pageout scheme) samples folios as it goes, and damon_folio_mkold() clears
// the young bit of the PTEs mapping a sampled folio and marks the folio young instead. smaps then
// shows `Referenced` for a page whose PTE is old (a fork child's copy) when the sample fell on it
// between the fork and the checkpoint: random, rare (campaigns of 3,000-op seeds met it about once
// in fifty), and not something the engine can know. A run whose first difference is a
// `Referenced:` line on such a host is run again; a second difference is a real one.

import { readdirSync, readFileSync } from 'node:fs';
import type { Difference } from './transcript.js';

const KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds';

/** The host's running kdamonds with their operations ("0: paddr"), or [] (none, no DAMON). */
export function runningKdamonds(): string[] {
  let ids: string[];
  try {
    ids = readdirSync(KDAMONDS).filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const id of ids) {
    try {
      if (readFileSync(`${KDAMONDS}/${id}/state`, 'latin1').trim() !== 'on') continue;
      const ops = readFileSync(`${KDAMONDS}/${id}/contexts/0/operations`, 'latin1').trim();
      out.push(`${id}: ${ops}`);
    } catch {
      out.push(`${id}: ?`);
    }
  }
  return out;
}

/** Whether a difference is one DAMON's sampling can make: a `Referenced:` line on both sides. */
export function referencedOnly(diff: Difference): boolean {
  return (
    (diff.oracle?.startsWith('Referenced:') ?? false) &&
    (diff.engine?.startsWith('Referenced:') ?? false)
  );
}
