// A real producer thread for the ring tests: offers records 0, 1, 2, … as fast as it can, each
// one's cells all derived from its sequence number; full means dropped (it never waits). It goes
// on until `published` records got in, so the consumer must have drained concurrently.
import { parentPort, workerData } from 'node:worker_threads';
import { MutationRing } from '../../src/cpus/mutation-ring.js';

const { ring: buffer, published } = workerData as { ring: SharedArrayBuffer; published: number };
const ring = MutationRing.attach(buffer);
let refused = 0;
let k = 0;
for (; ring.published < published; k++) {
  const at = ring.reserve();
  if (at < 0) {
    refused++;
    continue;
  }
  // Cell j of record k is k * 1000 + j: a record mixing two sequence numbers is a torn one.
  for (let j = 0; j < ring.recordCells; j++) ring.cells[at + j] = k * 1000 + j;
  ring.commit();
}
parentPort?.postMessage({ sent: k, refused });
