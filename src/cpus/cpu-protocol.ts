/**
 * Messages between the event loop (`CpuPool`) and the worker CPUs (`cpu-worker.ts`).
 * Requests are batched: one `batch` message carries every request submitted during one turn of
 * the event loop; the worker answers each batch with one `responses` message.
 */

export interface CpuRequest {
  id: number;
  /** Name of a handler registered in the worker (`cpu-ops.ts`). */
  op: string;
  args: unknown;
}

export type CpuResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; errno: number; message: string; internal?: true };

export type WorkerInbound = { t: 'batch'; requests: CpuRequest[] };

export type WorkerOutbound = { t: 'ready' } | { t: 'responses'; responses: CpuResponse[] };

/**
 * A handler's failure with an errno; anything else thrown is reported as EIO with `internal`
 * set (a bug: the HTTP layer answers 500 and logs it at error level, never a 4xx).
 */
export class OpError extends Error {
  readonly errno: number;
  constructor(errno: number, message: string) {
    super(message);
    this.name = 'OpError';
    this.errno = errno;
  }
}

/** The value a handler returns plus buffers to transfer (not copy) back to the event loop. */
export interface OpResult {
  value: unknown;
  transfer?: ArrayBuffer[];
}

export type OpHandler = (args: unknown) => OpResult | unknown;
