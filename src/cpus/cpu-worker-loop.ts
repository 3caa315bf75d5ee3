/**
 * The worker side of the dispatch: receives request batches, runs each request's handler in
 * order, and answers the batch with one message. A handler may block (Atomics.wait on a
 * simulated lock) — that is a simulated CPU sleeping, and it is why reads and mutations run here
 * and not on the event loop.
 */
import { parentPort } from 'node:worker_threads';
import { EIO, ENOSYS } from '../mm/errno.js';
import {
  type CpuResponse,
  OpError,
  type OpHandler,
  type OpResult,
  type WorkerInbound,
  type WorkerOutbound,
} from './cpu-protocol.js';

function isOpResult(v: unknown): v is OpResult {
  return typeof v === 'object' && v !== null && 'value' in v && 'transfer' in v;
}

/** Serves requests on this worker with the given handlers until the worker is terminated. */
export function serveCpuRequests(handlers: Record<string, OpHandler>): void {
  const port = parentPort;
  if (!port) throw new Error('serveCpuRequests must run on a worker thread');
  port.on('message', (msg: WorkerInbound) => {
    if (msg.t !== 'batch') return;
    const responses: CpuResponse[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const req of msg.requests) {
      const handler = handlers[req.op];
      if (!handler) {
        responses.push({ id: req.id, ok: false, errno: ENOSYS, message: `no such op: ${req.op}` });
        continue;
      }
      try {
        const out = handler(req.args);
        if (isOpResult(out)) {
          responses.push({ id: req.id, ok: true, value: out.value });
          if (out.transfer) transfer.push(...out.transfer);
        } else {
          responses.push({ id: req.id, ok: true, value: out });
        }
      } catch (err) {
        if (err instanceof OpError) {
          responses.push({ id: req.id, ok: false, errno: err.errno, message: err.message });
        } else {
          const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
          responses.push({ id: req.id, ok: false, errno: EIO, message, internal: true });
        }
      }
    }
    const out: WorkerOutbound = { t: 'responses', responses };
    port.postMessage(out, transfer);
  });
  const ready: WorkerOutbound = { t: 'ready' };
  port.postMessage(ready);
}
