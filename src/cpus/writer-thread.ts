/**
 * What a thread that runs activities holds for its whole life (activity-worker.ts: one activity;
 * activity-host-worker.ts: many): a reader slot of the sim's RCU domain, an instrument block, the
 * real per-VMA lock hooks, and the writer environment its calls record with. `close()` gives the
 * slot and the block back (the thread is about to end).
 */
import { Instruments } from '../metrics/instruments.js';
import { MmGlobals, MmStruct } from '../mm/mm-struct.js';
import { installWriterHooks, type WriterEnv } from '../mm/mm-writer.js';
import { RcuDomain } from '../sync/rcu.js';
import { SharedConfig } from './shared-config.js';
import type { EngineThreadData } from './transport.js';

export interface WriterThread {
  env: WriterEnv;
  /** A process's address space, attached on this thread (with its RCU grace periods). */
  attach(mm: SharedArrayBuffer): MmStruct;
  close(): void;
}

/** Registers this thread; throws if the domain has no reader slot or no instrument block left. */
export function openWriterThread(engine: EngineThreadData): WriterThread {
  const rcu = RcuDomain.attach(engine.rcu);
  rcu.register();
  const globals = MmGlobals.attach(engine.globals);
  const recorder = Instruments.attach(engine.instruments).recorder();
  const config = SharedConfig.attach(engine.config);
  installWriterHooks();
  return {
    env: {
      recorder,
      get strategy() {
        return config.strategyId;
      },
    },
    attach: (mm) => MmStruct.attach(mm, globals, rcu),
    close() {
      recorder.release();
      rcu.unregister();
    },
  };
}
