/**
 * How a `Sim` answers engine failures: a transport error mapped to the errno the HTTP layer
 * answers with, and the shared immutable error of a failed PROCMAP_QUERY.
 */
import { EBUSY } from '../mm/errno.js';
import { CpuRequestError, PoolSaturatedError } from './cpu-pool.js';
import { OpError } from './cpu-protocol.js';
import { SimError } from './sim-api.js';

/** Maps a transport failure to the errno the HTTP layer answers with. */
export function transportError(err: unknown, what: string): Error {
  if (err instanceof PoolSaturatedError) return new SimError(EBUSY, 'EBUSY', err.message);
  // A crash on a worker CPU is not an errno: a plain Error, which the HTTP layer answers 500.
  if (err instanceof CpuRequestError && err.internal) {
    return new Error(`${what}: internal error on a worker CPU: ${err.message}`);
  }
  if (err instanceof OpError) return SimError.of(err.errno, what);
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs a transport call, its failure mapped by `transportError`. */
export async function callTransport<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw transportError(err, what);
  }
}

/**
 * The failed PROCMAP_QUERY of an errno: one immutable SimError per errno, made once (an Error
 * captures a stack when made, several µs; a batch may fail thousands of lookups).
 */
const queryErrors = new Map<number, SimError>();
export function queryError(errno: number): SimError {
  let e = queryErrors.get(errno);
  if (e === undefined) {
    e = SimError.of(errno, 'PROCMAP_QUERY');
    queryErrors.set(errno, e);
  }
  return e;
}
