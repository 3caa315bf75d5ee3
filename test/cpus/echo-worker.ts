// A worker CPU with test handlers, to exercise the pool's dispatch without the engine.
import { workerData } from 'node:worker_threads';
import { OpError } from '../../src/cpus/cpu-protocol.js';
import { serveCpuRequests } from '../../src/cpus/cpu-worker-loop.js';

const { cpu, data } = workerData as { cpu: number; data: { gate: SharedArrayBuffer } };
const gate = new Int32Array(data.gate);

serveCpuRequests({
  echo: (args) => ({ cpu, args }),
  fail: () => {
    throw new OpError(22, 'bad argument');
  },
  crash: () => {
    throw new TypeError('boom');
  },
  // Blocks this CPU until the test opens the gate (word 0 != 0); counts arrivals in word 1.
  block: () => {
    Atomics.add(gate, 1, 1);
    Atomics.notify(gate, 1);
    Atomics.wait(gate, 0, 0);
    return cpu;
  },
  bytes: (args) => {
    const n = args as number;
    const buf = new ArrayBuffer(n);
    new Uint8Array(buf).fill(7);
    return { value: buf, transfer: [buf] };
  },
});
