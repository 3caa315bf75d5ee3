/**
 * What every benchmark thread on a shared address space does first: register with the RCU
 * domain, attach the arena and the global tables, take an instruments recorder and a reader
 * context, and make its syscalls take real per-VMA locks (the writer protocol).
 */
import { Instruments } from '../../src/metrics/instruments.js';
import type { InstrumentRecorder } from '../../src/metrics/recorder.js';
import { type MmGlobalBuffers, MmGlobals, MmStruct } from '../../src/mm/mm-struct.js';
import { installWriterHooks } from '../../src/mm/mm-writer.js';
import { createReaderContext, type ReaderContext } from '../../src/procfs/strategies/strategy.js';
import { RcuDomain } from '../../src/sync/rcu.js';

export interface SharedMmData {
  mm: SharedArrayBuffer;
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
  instruments: SharedArrayBuffer;
}

export interface AttachedThread {
  rcu: RcuDomain;
  mm: MmStruct;
  recorder: InstrumentRecorder;
  ctx: ReaderContext;
  /** Before the thread exits: release the recorder and the RCU slot. */
  detach(): void;
}

export function attachThread(d: SharedMmData): AttachedThread {
  const rcu = RcuDomain.attach(d.rcu);
  rcu.register();
  const mm = MmStruct.attach(d.mm, MmGlobals.attach(d.globals), rcu);
  const recorder = Instruments.attach(d.instruments).recorder();
  const ctx = createReaderContext({ rcu, recorder });
  installWriterHooks();
  return {
    rcu,
    mm,
    recorder,
    ctx,
    detach() {
      recorder.release();
      rcu.unregister();
    },
  };
}
