/**
 * The stages of a maps request that are ours (the HTTP stack around them is the hello-world's),
 * measured like the other stages (request-stages.ts) on the same 100-VMA process the HTTP section
 * loads: the read on the event loop as the reads' fast path makes it (`sim.readMaps` with the
 * service's strategy and 4 KiB chunks, answered within the turn), the reply's body made from its
 * pieces, and the pieces given back to their slab, as the fast path does once the reply is
 * written. In this loop the read's memory stays in the CPU's caches; under autocannon the HTTP
 * stack runs between two reads, so the read costs more there, never less.
 */
import { piecesBuffer, ReadPieces } from '../../src/cpus/read-pieces.js';
import type { SimApi } from '../../src/cpus/sim-api.js';
import { DEFAULT_CHUNK } from '../../src/schemas/proc-files.js';
import type { StageTimers } from './batch-stages.js';
import type { StageCost } from './request-stages.js';

const CALLS = 4000;

/** A maps read that ended within its turn (the fast path's common case), or a thrown error. */
function readWhole(sim: SimApi, pid: number): ReadPieces {
  const read = sim.readMaps(pid, { strategy: undefined, chunk: DEFAULT_CHUNK });
  if (read instanceof ReadPieces) return read;
  read.catch(() => {}); // its failure is the one thrown here
  throw new Error(`maps of pid ${pid}: not read whole in one event-loop turn`);
}

export function measureMapsStages(
  sim: SimApi,
  pid: number,
  reps: number,
  timers: Pick<StageTimers, 'perCall'>,
): StageCost[] {
  // The body first, while the pieces are still this read's (a read whole in one turn is one
  // piece: the body is that piece, no copy).
  const pieces = readWhole(sim, pid);
  const bytes = piecesBuffer(pieces.pieces).length;
  const body = timers.perCall(reps, CALLS, () => piecesBuffer(pieces.pieces));
  pieces.release();
  return [
    {
      key: 'maps.read',
      stage: `maps: the read on the event loop (sim.readMaps, the service's strategy, ${bytes} B in 4 KiB chunks), its pieces given back`,
      us: timers.perCall(reps, CALLS, () => readWhole(sim, pid).release()),
    },
    { key: 'maps.body', stage: "maps: the reply's body made from the read's pieces", us: body },
  ];
}
