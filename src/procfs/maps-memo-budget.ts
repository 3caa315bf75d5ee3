/**
 * The memory budget of one thread's maps line memos (maps-line-memo.ts): what they hold in all,
 * which of them hold anything, the thread's read clock that orders them by last use, and which
 * to empty when one needs room. Not thread-safe, as the memos are not: module state is per thread.
 */

/**
 * Memory of all memos of one thread (text + keys): room for the memos of two processes at
 * max_map_count (65,530 VMAs, ~10 MB each), so that a thread reading two of them in turn keeps
 * both.
 */
export const MEMO_BUDGET_BYTES = 32 << 20;

/** What the budget needs of a memo. */
export interface BudgetedMemo {
  /** When it was last read (`nextReadTick`). */
  readonly lastRead: number;
  /** When it was read before its last read (0: never). */
  readonly previousRead: number;
  /** Empties it; it gives its bytes back with `discharge`. */
  release(): void;
}

// The memos of this thread that hold memory, and what they hold.
const holding = new Set<BudgetedMemo>();
let heldBytes = 0;
let readClock = 0;

/** The thread's read clock, advanced: a memo's read begins. */
export function nextReadTick(): number {
  return ++readClock;
}

/** `memo` holds `more` bytes more than it did (room made first with `makeRoom`). */
export function charge(memo: BudgetedMemo, more: number): void {
  heldBytes += more;
  holding.add(memo);
}

/** `memo` was emptied: the `bytes` it held go back to the budget. */
export function discharge(memo: BudgetedMemo, bytes: number): void {
  heldBytes -= bytes;
  holding.delete(memo);
}

/**
 * Makes room for `more` bytes of `growing` (false: there is none; it then stops storing for this
 * read and keeps what it has, a prefix that still copies). Empties the least recently read memos,
 * but only those not read since `growing`'s previous read: a memo read in between is in use beside
 * it, and emptying it would have the two (or more) memos that do not fit together empty and
 * rewrite each other at every read, each read then costing more than with no memo. A memo's first
 * read may empty any other (a scan through more processes than fit keeps the latest).
 */
export function makeRoom(growing: BudgetedMemo, more: number): boolean {
  if (heldBytes + more <= MEMO_BUDGET_BYTES) return true;
  const since = growing.previousRead;
  const byAge = [...holding]
    .filter((m) => m !== growing && (since === 0 || m.lastRead < since))
    .sort((a, b) => a.lastRead - b.lastRead);
  for (const m of byAge) {
    if (heldBytes + more <= (MEMO_BUDGET_BYTES * 3) / 4) break;
    m.release();
  }
  return heldBytes + more <= MEMO_BUDGET_BYTES;
}

/** Bytes the memos of this thread hold (tests). */
export function memoBytesHeld(): number {
  return heldBytes;
}
