/**
 * The simulated CPUs: a fixed pool of worker threads that execute reads and mutations in
 * parallel, and the event loop's side of the dispatch to them.
 *
 * Transport: `postMessage`, batched — requests submitted during one turn of the event loop go to
 * a worker as one message (an array), and the worker answers a batch with one message. Measured
 * here (bench/cpus/dispatch.ts) against the per-request alternative; node-perf.md §2 has the
 * background (a SharedArrayBuffer ring is cheaper still for tiny requests, but our payloads —
 * maps text, query batches — are variable-sized, which is what structured clone is good at).
 *
 * Backpressure: each worker accepts at most `maxInFlight` requests; when every worker is full,
 * `run()` rejects at once with `PoolSaturatedError` (the HTTP layer answers 503 + Retry-After)
 * instead of queueing without bound. The event loop never blocks: it only posts and awaits.
 */
import { Worker } from 'node:worker_threads';
import {
  type CpuRequest,
  type CpuResponse,
  OpError,
  type WorkerInbound,
  type WorkerOutbound,
} from './cpu-protocol.js';

export class PoolSaturatedError extends Error {
  constructor(inFlight: number) {
    super(`all worker CPUs are busy (${inFlight} requests in flight)`);
    this.name = 'PoolSaturatedError';
  }
}

/** An error a worker reported for one request (an errno from the engine, or a crash: EIO). */
export class CpuRequestError extends OpError {
  /** The handler threw something other than an `OpError`: a bug, not the client's doing. */
  readonly internal: boolean;
  constructor(errno: number, message: string, internal = false) {
    super(errno, message);
    this.name = 'CpuRequestError';
    this.internal = internal;
  }
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Cpu {
  worker: Worker;
  inFlight: number;
  outbox: CpuRequest[];
  pending: Map<number, Pending>;
  exited: boolean;
  /** Set by `close()` while it waits for this worker's in-flight requests. */
  drained?: () => void;
}

export interface CpuPoolOptions {
  /** Number of worker threads (>= 1). */
  cpus: number;
  /** Worker entry module (compiled .js). */
  workerUrl: URL;
  /** Passed to every worker as `workerData` (shared buffers: globals, RCU, metrics). */
  workerData: unknown;
  /** Max requests in flight per worker before `run()` rejects. */
  maxInFlight?: number;
  /** Called with a worker's threadId when it exits (e.g. to release its instrument block). */
  onWorkerExit?: (threadId: number) => void;
}

export class CpuPool {
  readonly size: number;
  private readonly cpus: Cpu[] = [];
  private readonly maxInFlight: number;
  private nextId = 1;
  private flushScheduled = false;
  private closed = false;

  private constructor(opts: CpuPoolOptions) {
    this.size = opts.cpus;
    this.maxInFlight = opts.maxInFlight ?? 512;
    for (let i = 0; i < opts.cpus; i++) this.cpus.push(this.spawn(opts, i));
  }

  /** Starts the workers and resolves once every one of them is ready. */
  static async start(opts: CpuPoolOptions): Promise<CpuPool> {
    if (!Number.isInteger(opts.cpus) || opts.cpus < 1) throw new RangeError('cpus must be >= 1');
    const pool = new CpuPool(opts);
    await Promise.all(pool.cpus.map((cpu) => pool.waitReady(cpu)));
    return pool;
  }

  /** Requests in flight on all workers. */
  get inFlight(): number {
    let n = 0;
    for (const cpu of this.cpus) n += cpu.inFlight;
    return n;
  }

  /**
   * Runs one request on the least-loaded worker. Rejects with `PoolSaturatedError` when every
   * worker already has `maxInFlight` requests, and with `CpuRequestError` for an engine error.
   */
  run<T>(op: string, args: unknown, transfer?: readonly ArrayBuffer[]): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the CPU pool is closed'));
    let best: Cpu | undefined;
    for (const cpu of this.cpus) {
      if (cpu.exited || cpu.inFlight >= this.maxInFlight) continue;
      if (!best || cpu.inFlight < best.inFlight) best = cpu;
    }
    if (!best) return Promise.reject(new PoolSaturatedError(this.inFlight));
    return this.enqueue<T>(best, op, args, transfer);
  }

  /** Runs the same request on every worker (control plane: attach/detach an address space). */
  broadcast(op: string, args: unknown): Promise<unknown[]> {
    return Promise.all(this.cpus.filter((c) => !c.exited).map((c) => this.enqueue(c, op, args)));
  }

  /** Stops accepting work, lets in-flight requests finish, then terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.cpus.map(async (cpu) => {
        if (cpu.pending.size > 0 && !cpu.exited) {
          await new Promise<void>((resolve) => {
            cpu.drained = resolve;
          });
        }
        await cpu.worker.terminate();
      }),
    );
  }

  private enqueue<T>(cpu: Cpu, op: string, args: unknown, transfer?: readonly ArrayBuffer[]) {
    const id = this.nextId++;
    cpu.inFlight++;
    return new Promise<T>((resolve, reject) => {
      cpu.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (transfer && transfer.length > 0) {
        // Transfers cannot ride in a batch with other requests' clones; send this one alone.
        const msg: WorkerInbound = { t: 'batch', requests: [{ id, op, args }] };
        cpu.worker.postMessage(msg, transfer as ArrayBuffer[]);
        return;
      }
      cpu.outbox.push({ id, op, args });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      for (const cpu of this.cpus) {
        if (cpu.outbox.length === 0) continue;
        const msg: WorkerInbound = { t: 'batch', requests: cpu.outbox };
        cpu.outbox = [];
        cpu.worker.postMessage(msg);
      }
    });
  }

  private spawn(opts: CpuPoolOptions, index: number): Cpu {
    const worker = new Worker(opts.workerUrl, {
      workerData: { cpu: index, data: opts.workerData },
      name: `cpu-${index}`,
    });
    const cpu: Cpu = { worker, inFlight: 0, outbox: [], pending: new Map(), exited: false };
    worker.on('message', (msg: WorkerOutbound) => {
      if (msg.t === 'responses') for (const r of msg.responses) this.settle(cpu, r);
    });
    worker.on('error', (err) => this.failAll(cpu, err));
    const threadId = worker.threadId;
    worker.on('exit', () => {
      opts.onWorkerExit?.(threadId);
      cpu.exited = true;
      this.failAll(cpu, new Error(`worker cpu-${index} exited`));
    });
    return cpu;
  }

  private waitReady(cpu: Cpu): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (msg: WorkerOutbound) => {
        if (msg.t !== 'ready') return;
        cpu.worker.off('message', onMessage);
        cpu.worker.off('error', reject);
        resolve();
      };
      cpu.worker.on('message', onMessage);
      cpu.worker.once('error', reject);
    });
  }

  private settle(cpu: Cpu, r: CpuResponse): void {
    const p = cpu.pending.get(r.id);
    if (!p) return;
    cpu.pending.delete(r.id);
    cpu.inFlight--;
    if (r.ok) p.resolve(r.value);
    else p.reject(new CpuRequestError(r.errno, r.message, r.internal === true));
    if (cpu.pending.size === 0) cpu.drained?.();
  }

  private failAll(cpu: Cpu, err: Error): void {
    for (const p of cpu.pending.values()) p.reject(err);
    cpu.pending.clear();
    cpu.inFlight = 0;
    cpu.drained?.();
  }
}
