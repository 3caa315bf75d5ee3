// Kernel-side state a script does not decide, which a differential run may meet by chance, so that
// the same script gives the kernel's transcript one way in one run and another in the next:
//
// - DAMON: a host running a kdamond with physical-address monitoring (this kind of machine runs
//   one, `paddr` with a pageout scheme) samples folios as it goes, and damon_folio_mkold() clears
//   the young bit of the PTEs mapping a sampled folio and marks the folio young instead. smaps
//   then shows `Referenced` for a page whose PTE is old (a fork child's copy) when a sample fell
//   on it between the fork and the checkpoint.
// - Probably writeback: fault-around (filemap_map_pages) skips a page-cache folio that is locked
//   at that moment, as the flusher briefly locks a dirty one it writes back; a shared file
//   mapping showed one page fewer in Rss once (seed 9008 of session 17's campaigns, equal on
//   every rerun; the cause is inferred, not verified).
//
// Random and rare (campaigns of 3,000-op seeds met one about once in forty), and nothing the
// engine can know. differential.ts runs a differing script again; an equal rerun is host noise.

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

/** Whether a difference is one DAMON's sampling makes: a `Referenced:` line on both sides. */
export function referencedOnly(diff: Difference): boolean {
  return (
    (diff.oracle?.startsWith('Referenced:') ?? false) &&
    (diff.engine?.startsWith('Referenced:') ?? false)
  );
}
