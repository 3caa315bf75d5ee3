/**
 * A scriptable SimApi for testing the HTTP layer alone: it records what the routes hand the engine
 * (so tests can check the conversions) and answers what the test tells it to. Engine behaviour is
 * tested through the real in-process Sim (local-sim.test.ts, e2e); this isolates the HTTP contract.
 */
import type * as api from '../../src/cpus/sim-api.js';
import { SimError } from '../../src/cpus/sim-api.js';
import { Instruments } from '../../src/metrics/instruments.js';
import {
  newQueryColumns,
  putAnswer,
  WANT_BUILD_ID,
  WANT_NAME,
} from '../../src/procfs/query-batch.js';

export const ESRCH = () => new SimError(3, 'ESRCH', 'no such process');

/** The compact batch's columns holding these outcomes, in order. */
export function columnsOf(outcomes: readonly api.QueryOutcome[]): api.QueryColumns {
  const c = newQueryColumns(outcomes.length);
  outcomes.forEach((o, i) => {
    if (o instanceof SimError) {
      c.errno[i] = o.errno;
      return;
    }
    putAnswer(c, i, o);
    if (o.vmaName !== null) {
      let k = c.names.indexOf(o.vmaName);
      if (k < 0) k = c.names.push(o.vmaName) - 1;
      c.name[i] = k;
    }
    if (o.buildId !== null) {
      let k = c.buildIds.indexOf(o.buildId);
      if (k < 0) k = c.buildIds.push(o.buildId) - 1;
      c.buildId[i] = k;
    }
  });
  return c;
}

export class FakeSim implements api.SimApi {
  readonly log: Array<{ method: string; pid?: number; args: unknown }> = [];
  readonly procs = new Map<number, api.ProcessSummary & { activity: api.ActivityStatus | null }>();
  strategy: api.StrategyName = 'per_vma';
  nextPid = 100;
  closed = false;
  mapsChunks: string[] = ['00400000-00401000 r--p 00000000 00:00 0 \n'];
  queryAnswer: (q: api.QueryArgs) => api.QueryOutcome = (q) => ({
    vmaStart: Math.floor(q.addr / 4096) * 4096,
    vmaEnd: Math.floor(q.addr / 4096) * 4096 + 0x1000,
    vmaFlags: 5,
    vmaPageSize: 4096,
    vmaOffset: 0,
    inode: 7,
    devMajor: 254,
    devMinor: 1,
    vmaName: q.name ? '/usr/lib/libc.so.6' : null,
    buildId: null,
  });
  syscallAnswer: (call: api.SyscallCall) => api.SyscallResult = (call) =>
    call.op === 'mmap' ? 0x7f0000000000 : call.op === 'brk' ? 0x555555559000 : 0;
  /** Resolves when set; lets a test hold a request in flight. */
  gate: Promise<void> | null = null;
  private listeners = new Set<api.MutationListener>();

  constructor(pids: number[] = [1]) {
    for (const pid of pids) this.procs.set(pid, { pid, comm: 'init', vmas: 3, activity: null });
  }

  private get(pid: number) {
    const p = this.procs.get(pid);
    if (!p) throw ESRCH();
    return p;
  }

  emit(e: api.MutationEvent): void {
    for (const l of this.listeners) l(e);
  }

  async listProcesses(offset: number, limit: number): Promise<api.ProcessList> {
    this.log.push({ method: 'listProcesses', args: { offset, limit } });
    const all = [...this.procs.values()].map(({ pid, comm, vmas }) => ({ pid, comm, vmas }));
    return { total: all.length, processes: all.slice(offset, offset + limit) };
  }
  async createProcess(opts: api.CreateProcessOptions): Promise<api.ProcessSummary> {
    this.log.push({ method: 'createProcess', args: opts });
    const pid = this.nextPid++;
    const p = { pid, comm: opts.comm ?? opts.template ?? 'imported', vmas: 5, activity: null };
    this.procs.set(pid, p);
    return { pid, comm: p.comm, vmas: p.vmas };
  }
  async inspectProcess(pid: number): Promise<api.ProcessDetail> {
    const p = this.get(pid);
    return {
      pid,
      comm: p.comm,
      vmas: p.vmas,
      brkStart: 0x555555554000,
      brk: 0x555555575000,
      startStack: 0x7ffffffde000,
      pkeys: false,
      activity: p.activity,
    };
  }
  async forkProcess(pid: number): Promise<api.ProcessSummary> {
    const p = this.get(pid);
    const child = { pid: this.nextPid++, comm: p.comm, vmas: p.vmas, activity: null };
    this.procs.set(child.pid, child);
    return { pid: child.pid, comm: child.comm, vmas: child.vmas };
  }
  async exitProcess(pid: number): Promise<void> {
    this.get(pid);
    this.procs.delete(pid);
  }
  async setActivity(pid: number, spec: api.ActivitySpec): Promise<api.ActivityStatus> {
    const p = this.get(pid);
    this.log.push({ method: 'setActivity', pid, args: spec });
    p.activity = { spec, startedAt: Date.UTC(2026, 0, 1), calls: 0, errors: 0, iterations: 0 };
    return p.activity;
  }
  async getActivity(pid: number): Promise<api.ActivityStatus | null> {
    return this.get(pid).activity;
  }
  async stopActivity(pid: number): Promise<boolean> {
    const p = this.get(pid);
    const had = p.activity !== null;
    p.activity = null;
    return had;
  }
  async readProcFile(
    pid: number,
    file: api.ProcFileName,
    opts: { chunk: number },
  ): Promise<AsyncIterable<Uint8Array>> {
    this.get(pid);
    this.log.push({ method: 'readProcFile', pid, args: { file, ...opts } });
    const text = new TextEncoder().encode(`${file}\n`);
    return (async function* () {
      yield text;
    })();
  }
  async readMaps(pid: number, opts: api.MapsReadOptions): Promise<AsyncIterable<Uint8Array>> {
    this.get(pid);
    this.log.push({ method: 'readMaps', pid, args: opts });
    const chunks = this.mapsChunks;
    const gate = this.gate;
    return (async function* () {
      for (const c of chunks) {
        if (gate) await gate;
        yield new TextEncoder().encode(c);
      }
    })();
  }
  async query(pid: number, opts: api.ReadOptions, queries: readonly api.QueryArgs[]) {
    this.get(pid);
    this.log.push({ method: 'query', pid, args: { opts, queries } });
    return queries.map((q) => this.queryAnswer(q));
  }
  async queryColumns(pid: number, opts: api.ReadOptions, batch: api.AddressBatch) {
    this.get(pid);
    // The queries the batch stands for (the per-query form: each address's own flags and wants).
    const { flags, name, entries } = batch;
    const queries: api.QueryArgs[] = [...batch.addrs].map((addr, i) =>
      entries === undefined
        ? { addr, flags, name, buildId: false }
        : {
            addr,
            flags: entries.flags[i],
            name: (entries.want[i] & WANT_NAME) !== 0,
            buildId: (entries.want[i] & WANT_BUILD_ID) !== 0,
          },
    );
    this.log.push({ method: 'queryColumns', pid, args: { opts, batch, queries } });
    return columnsOf(queries.map((q) => this.queryAnswer(q)));
  }
  async syscalls(pid: number, calls: readonly api.SyscallCall[]): Promise<api.SyscallResult[]> {
    this.get(pid);
    this.log.push({ method: 'syscalls', pid, args: calls });
    if (this.gate) await this.gate;
    // Like a real sim whose CPUs have stopped.
    if (this.closed) throw new SimError(16, 'EBUSY', 'sim closed under an in-flight request');
    const results = calls.map((c) => this.syscallAnswer(c));
    for (let i = 0; i < calls.length; i++) this.emit({ pid, call: calls[i], result: results[i] });
    return results;
  }
  getConfig(): api.SimConfig {
    return {
      strategy: this.strategy,
      cpus: 0,
      reads: 'event-loop',
      maxProcesses: 10,
      maxVmasPerProcess: 65530,
      maxBatch: 8,
      pkeys: false,
      thp: 'madvise',
    };
  }
  setStrategy(strategy: api.StrategyName): void {
    this.strategy = strategy;
  }
  onMutation(listener: api.MutationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  readonly instruments = Instruments.create({ capacity: 4 });
  gauges() {
    return { processes: this.procs.size, vmas: 3 * this.procs.size };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
