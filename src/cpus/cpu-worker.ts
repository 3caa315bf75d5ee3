/**
 * Entry of one worker CPU: a thread that attaches every address space's arena and runs reads and
 * mutations dispatched by the CpuPool. Reads run under the strategy the request names; mutations
 * under the writer protocol (src/mm/mm-writer.ts). All state here is this thread's own view of
 * shared memory; nothing is cached across requests except the views.
 */
import { workerData } from 'node:worker_threads';
import { Instruments } from '../metrics/instruments.js';
import { type MmGlobalBuffers, MmGlobals, MmStruct } from '../mm/mm-struct.js';
import { installWriterHooks } from '../mm/mm-writer.js';
import { RcuDomain } from '../sync/rcu.js';
import { OpError } from './cpu-protocol.js';
import { serveCpuRequests } from './cpu-worker-loop.js';
import { readHandlers } from './read-ops.js';
import { SharedConfig } from './shared-config.js';
import type { SyscallCall } from './sim-api.js';
import { execExit, execFork, execSyscall } from './syscall-exec.js';

/** What every worker CPU and activity thread is started with. */
export interface EngineThreadData {
  globals: MmGlobalBuffers;
  rcu: SharedArrayBuffer;
  instruments: SharedArrayBuffer;
  config: SharedArrayBuffer;
}

const ESRCH = 3;

const data = (workerData as { data: EngineThreadData }).data;
const globals = MmGlobals.attach(data.globals);
const rcu = RcuDomain.attach(data.rcu);
rcu.register();
const recorder = Instruments.attach(data.instruments).recorder();
const config = SharedConfig.attach(data.config);
const mms = new Map<number, MmStruct>();
installWriterHooks();

function mmOf(pid: number): MmStruct {
  const mm = mms.get(pid);
  if (!mm) throw new OpError(ESRCH, `no process ${pid}`);
  return mm;
}

const writerEnv = {
  recorder,
  get strategy() {
    return config.strategyId;
  },
};

serveCpuRequests({
  attach: (args) => {
    const { pid, buffer } = args as { pid: number; buffer: SharedArrayBuffer };
    mms.set(pid, MmStruct.attach(buffer, globals, rcu));
    return null;
  },
  detach: (args) => {
    mms.delete((args as { pid: number }).pid);
    return null;
  },
  mutate: (args) => {
    const { pid, calls } = args as { pid: number; calls: SyscallCall[] };
    const mm = mmOf(pid);
    return calls.map((call) => execSyscall(mm, writerEnv, call));
  },
  fork: (args) => {
    const child = execFork(mmOf((args as { pid: number }).pid), writerEnv);
    return child.buffer;
  },
  exit: (args) => {
    execExit(mmOf((args as { pid: number }).pid), writerEnv);
    return null;
  },
  ...readHandlers({ mmOf, rcu, recorder, config }),
});
