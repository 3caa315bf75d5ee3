/**
 * Request body limits per route (413 E2BIG beyond), sized to what each route can legitimately
 * need, so that no route accepts megabytes it has no use for (issue 11 finding 7: a 15-million-
 * digit address or a 16 MB nested array sent to a single-call route parsed for seconds).
 *
 * - Every route by default: 64 KiB (a single call with a PATH_MAX path, escaped, fits many times).
 * - Batches (`/syscalls`, batch PROCMAP_QUERY, activity loops): 256 bytes per entry `--max-batch`
 *   allows (a call with its fields and a typical path is ~100-150 bytes), at least 64 KiB.
 * - `POST /processes` (an imported maps text or a recorded trace): `--body-limit`.
 * `--body-limit` caps all of them.
 */
import type { ServiceConfig } from '../config.js';
import { httpError } from './errors.js';

export const SMALL_BODY_BYTES = 64 * 1024;
export const BATCH_ENTRY_BYTES = 256;

type Limits = Pick<ServiceConfig, 'bodyLimit' | 'maxBatch'>;

/** The default for every route. */
export function smallBodyLimit(config: Limits): number {
  return Math.min(config.bodyLimit, SMALL_BODY_BYTES);
}

/** Routes whose body is a batch of at most `--max-batch` entries. */
export function batchBodyLimit(config: Limits): number {
  return Math.min(
    config.bodyLimit,
    Math.max(SMALL_BODY_BYTES, config.maxBatch * BATCH_ENTRY_BYTES),
  );
}

/**
 * A preValidation hook refusing, with 400 E2BIG, a body whose array `key` (any of `keys`) has
 * more than `maxBatch` entries: counted before the schema looks at any entry, so an over-long
 * batch costs nothing.
 */
export function batchCountCheck(maxBatch: number, ...keys: string[]) {
  return async (request: { body: unknown }) => {
    const body = request.body as Record<string, unknown> | null | undefined;
    if (typeof body !== 'object' || body === null) return;
    for (const key of keys) {
      const entries = body[key];
      if (Array.isArray(entries) && entries.length > maxBatch) {
        throw httpError(
          'E2BIG',
          `batch of ${entries.length} entries exceeds the limit ${maxBatch}`,
        );
      }
    }
  };
}
