/**
 * `lockless` and `lockless_nofallback` (they differ only in the fancy-VMA fallback): RCU + mm
 * sequence speculation with no copy step. A maps line is formatted straight from the live record
 * into the output, then validated; on a change the line is truncated, the sequence resynced
 * (momentary mmap read lock) and the position looked up again. `ctx.retryLimit` failed
 * validations of one lookup fall back to the mmap read lock for that VMA (`retry_limit`).
 *
 * Names are the danger (API.md, kernel.md §3.4 Jann Horn's objection):
 *   - `lockless` never touches name storage speculatively: a VMA with an anon name or a
 *     special-mapping name op ("fancy") is read under a momentary mmap read lock (`fancy_vma`).
 *   - `lockless_nofallback` reads them speculatively. Anon-name storage is freed as soon as its
 *     last reference drops (not RCU-deferred): if the slot's generation/refcount shows the bytes
 *     were freed or reused by the time the reader is done with them, that is a `use_after_free`
 *     hazard. If the VMA's ops were switched to the dummy ops by `vma_close` between the check of
 *     the name op and its call, that is a `null_deref` hazard. Either way the line is discarded
 *     and retried (the sequence check, which a writer always trips, decides the retry), so the
 *     reader never crashes nor returns a torn line.
 */
import type { StrategyName } from '../../metrics/labels.js';
import type { MmStruct } from '../../mm/mm-struct.js';
import type { ByteSink } from '../byte-sink.js';
import { writeMapsLine } from '../maps-line.js';
import type { MapsLineMemo } from '../maps-line-memo.js';
import { LINE_WRITTEN, type MapsPosition, type MapsWalker, readMapsChunk } from '../maps-text.js';
import type { QueryTarget } from '../procmap-query.js';
import {
  CAPTURE_NULL_DEREF,
  captureVma,
  captureVmaAs,
  queryBuildId,
  usesAnonName,
} from '../vma-capture.js';
import type { VmaView } from '../vma-view.js';
import { defineStrategy, type ReadStrategy, type StrategyLocking } from './read-strategy.js';
import {
  FALLBACK_FANCY_VMA,
  FALLBACK_RETRY_LIMIT,
  HAZARD_NULL_DEREF,
  HAZARD_USE_AFTER_FREE,
  type ReaderContext,
} from './reader-context.js';
import { Speculation } from './speculation.js';

/** Where a read writes its line (null: a query, no line) and the reader's memo of lines. */
type Sink = ByteSink | null;
type Lines = MapsLineMemo | null;

/** A maps line through the reader's memo (a copy where it matches) or formatted. */
function writeLine(sink: ByteSink, view: VmaView, lines: Lines): void {
  if (lines !== null) lines.write(sink, view);
  else writeMapsLine(sink, view);
}

class LocklessReader implements MapsWalker {
  readonly hasGate = true;
  readonly spec: Speculation;

  constructor(
    readonly ctx: ReaderContext,
    readonly mm: MmStruct,
    /** true: `lockless` (fancy VMAs under the mmap lock); false: `lockless_nofallback`. */
    readonly fancyFallback: boolean,
  ) {
    this.spec = new Speculation(ctx, mm);
  }

  /**
   * The first VMA with vm_end > from, read under the mmap read lock (a fallback); `found`: what
   * the lookup found. A free lock is taken without leaving RCU (a trylock never sleeps), and if
   * nothing was written since the sequence was recorded `found` is the answer and the cursor
   * goes on from it; else RCU is left and the lock waited for.
   */
  private lockedRead(from: number, view: VmaView, sink: Sink, lines: Lines, found: number): number {
    const { spec, mm } = this;
    if (!spec.trylockInRcu()) {
      return spec.underMmapLock(() => this.readLocked(mm.findVma(from), view, sink, lines));
    }
    try {
      const id = found !== 0 && spec.valid() ? found : mm.findVma(from);
      return this.readLocked(id, view, sink, lines);
    } finally {
      spec.unlockInRcu();
    }
  }

  /** VMA `id` (0: none) read under the mmap read lock. */
  private readLocked(id: number, view: VmaView, sink: Sink, lines: Lines): number {
    if (id === 0) return 0;
    // Under the mmap read lock the record is stable: the memo's line may be copied as a locked
    // reader copies it (a fancy VMA's name compared there, no capture).
    if (sink !== null && lines?.writeIfUnchanged(sink, this.mm, id, view, true)) return 1;
    captureVma(this.mm, id, view);
    if (sink !== null) writeLine(sink, view, lines);
    return 1;
  }

  /**
   * The first VMA with vm_end > from into `view` (and its line into `sink` when given), read
   * speculatively and validated. Caller is inside its RCU read section with `spec` begun.
   */
  read(from: number, view: VmaView, sink: Sink, lines: Lines): number {
    const { ctx, mm, spec } = this;
    const t = mm.vmas;
    const hooks = ctx.hooks;
    let retries = 0;
    let id = 0;
    for (;;) {
      ctx.attempt();
      id = spec.findNext(from);
      if (id === 0) {
        if (spec.valid()) return 0;
      } else {
        hooks?.afterLookup?.(mm, id);
        const anon = t.anonName(id);
        const ops = t.ops(id);
        if (this.fancyFallback && (anon !== 0 || ops !== 0)) {
          ctx.fallback(FALLBACK_FANCY_VMA);
          return this.lockedRead(from, view, sink, lines, id);
        }
        const mark = sink === null ? 0 : sink.length;
        // The line the reader's memo holds for this record's printed fields, copied straight from
        // the live record (no capture, no name bytes read: nothing for a hazard to touch); a torn
        // record can only make a hit or a miss that the validation below throws away.
        const copied = sink !== null && lines?.writeIfUnchanged(sink, mm, id, view, false) === true;
        let hazard = copied
          ? 0
          : captureVmaAs(mm, id, view, anon, ops, sink === null, hooks?.beforeNameCall);
        if (!copied && sink !== null) writeLine(sink, view, lines);
        hooks?.beforeValidate?.(mm, id);
        // After the last use of the name bytes: were they still this VMA's name?
        if (!copied && usesAnonName(view) && !mm.anonNames.isLive(anon)) {
          ctx.hazard(HAZARD_USE_AFTER_FREE);
          hazard |= 2;
        }
        if (hazard & CAPTURE_NULL_DEREF) ctx.hazard(HAZARD_NULL_DEREF);
        if (spec.valid() && hazard === 0) {
          if (copied) lines?.stampValidated();
          return 1;
        }
        if (sink !== null) {
          lines?.drop(mark);
          sink.length = mark; // never hand out a line that may be torn
        }
      }
      if (retries >= ctx.retryLimit) {
        ctx.fallback(FALLBACK_RETRY_LIMIT);
        return this.lockedRead(from, view, sink, lines, id);
      }
      retries++;
      ctx.retry();
      spec.resync();
    }
  }

  /** The maps walker: formats the line, then validates (a torn line is truncated, retried). */
  next(from: number, view: VmaView, sink: ByteSink, lines: MapsLineMemo | null): number {
    const r = this.read(from, view, sink, lines);
    return r > 0 ? LINE_WRITTEN : r;
  }
}

/** PROCMAP_QUERY: sequence recorded at setup, each lookup read speculatively and validated. */
class LocklessQueryTarget implements QueryTarget {
  constructor(readonly reader: LocklessReader) {}
  alive(): boolean {
    return true;
  }
  setup(): number {
    this.reader.spec.begin();
    this.reader.ctx.rcu.readLock();
    return 0;
  }
  next(addr: number, view: VmaView): number {
    return this.reader.read(addr, view, null, null);
  }
  teardown(): void {
    this.reader.ctx.rcu.readUnlock();
  }
  buildId(fileId: number): Uint8Array | null {
    return queryBuildId(this.reader.mm, fileId);
  }
}

/** The locking of both variants; `fancyFallback` is what tells them apart. */
function locklessLocking(name: string, fancyFallback: boolean): StrategyLocking {
  return {
    readChunk(ctx: ReaderContext, mm: MmStruct, pos: MapsPosition, limit: number, sink: ByteSink) {
      const reader = ctx.cached(name, mm, () => new LocklessReader(ctx, mm, fancyFallback));
      reader.spec.begin();
      ctx.rcu.readLock();
      try {
        return readMapsChunk(pos, limit, reader, sink, ctx.view, ctx.mapsLines(mm));
      } finally {
        ctx.rcu.readUnlock();
      }
    },
    queryTarget: (ctx, mm) => new LocklessQueryTarget(new LocklessReader(ctx, mm, fancyFallback)),
  };
}

/** A lockless variant: `fancyFallback` is what tells `lockless` and `lockless_nofallback` apart. */
export function locklessVariant(name: StrategyName, fancyFallback: boolean): ReadStrategy {
  return defineStrategy(name, locklessLocking(name, fancyFallback));
}

/** Fancy VMAs (anon name, special-mapping name) under a momentary mmap read lock. */
export default locklessVariant('lockless', true);
