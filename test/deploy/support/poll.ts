/**
 * Waiting for a condition that another process makes true (a server becoming ready, Prometheus
 * having scraped enough samples): ask again every `intervalMs` until it holds or `timeoutMs`
 * passes. Never a fixed sleep: it returns as soon as the condition is observed.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface PollOptions {
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Give up early (e.g. the process being waited on has exited); returns why, or null. */
  abort?: () => string | null;
}

/** Resolves with the first non-undefined value of `probe`; rejects on timeout or abort. */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError = '';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = ` (last error: ${(err as Error).message})`;
    }
    const aborted = options.abort?.() ?? null;
    if (aborted !== null) throw new Error(`gave up waiting for ${options.what}: ${aborted}`);
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}${lastError}`,
      );
    }
    await delay(options.intervalMs ?? 200);
  }
}
