/**
 * Entry of one worker CPU: a thread that attaches every address space's arena and runs the
 * engine's handlers (engine.ts) for the requests the CpuPool dispatches to it. Reads run under
 * the strategy the request names; mutations under the writer protocol (src/mm/mm-writer.ts).
 */
import { workerData } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { MmGlobals } from '../mm/mm-struct.js';
import { RcuDomain } from '../sync/rcu.js';
import { serveCpuRequests } from './cpu-worker-loop.js';
import { Engine } from './engine.js';
import { SharedConfig } from './shared-config.js';
import type { EngineThreadData } from './transport.js';

export type { EngineThreadData } from './transport.js';

const data = (workerData as { data: EngineThreadData }).data;
const rcu = RcuDomain.attach(data.rcu);
rcu.register();
const engine = new Engine({
  globals: MmGlobals.attach(data.globals),
  rcu,
  recorder: Instruments.attach(data.instruments).recorder(),
  config: SharedConfig.attach(data.config),
});
serveCpuRequests(engine.handlers());
