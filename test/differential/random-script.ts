// Seeded random differential scripts: the mix of ops (random-map-ops.ts, random-change-ops.ts)
// in the layout of random-layout.ts. A tenth of the calls are invalid on purpose.
//
// The stream is prefix-stable: generateScript(seed, n) is the first n ops of the same infinite
// sequence (plus probes up front and a final check), so `DIFF_OPS=n` reproduces any prefix.

import { anonOp, brkOp, madviseOp, mprotectOp, mremapOp, touchOp } from './random-change-ops.js';
import {
  CHECK_EVERY,
  PAGE,
  probeAddresses,
  RandomPicks,
  type ScriptLayout,
} from './random-layout.js';
import { badMmapOp, mmapOp, munmapOp } from './random-map-ops.js';
import { Rng } from './rng.js';
import { FD_NONE, FILE_COUNT, FILE_PAGES, FILE_RDONLY, type Op } from './script.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED } from './uapi.js';

export {
  CHECK_EVERY,
  PAGE,
  probeAddresses,
  SANDBOX_BASE,
  SANDBOX_PAGES,
  type ScriptLayout,
  TASK_SIZE,
  WINDOW_PAGES,
} from './random-layout.js';

class Generator {
  private readonly r: Rng;
  private readonly layout: ScriptLayout;

  constructor(private readonly p: RandomPicks) {
    this.r = p.r;
    this.layout = p.layout;
  }

  /** Ops already decided (a mapping made just so that the next op has a VMA to work on). */
  private readonly pending: Op[] = [];

  /** Half the mremaps get a fresh mapping of exactly the old range first, so fewer are EFAULT. */
  private mremapOnFreshVma(): Op {
    const m = mremapOp(this.p);
    if (m.op === 'mremap' && m.oldLen > 0 && m.oldLen <= 16 * PAGE && this.r.chance(0.5)) {
      const fileBacked = this.r.chance(0.3);
      const flags = (this.r.chance(0.25) ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED;
      this.pending.push(m);
      return {
        op: 'mmap',
        addr: m.addr,
        len: m.oldLen,
        prot: this.p.prot(),
        flags: fileBacked ? flags : flags | MAP_ANONYMOUS,
        fd: fileBacked ? this.r.int(0, FILE_RDONLY - 1) : FD_NONE,
        off: fileBacked ? this.p.pages(0, FILE_PAGES) : 0,
      };
    }
    return m;
  }

  op(index: number): Op {
    const r = this.r;
    if (index % CHECK_EVERY === CHECK_EVERY - 1) return { op: 'check' };
    const queued = this.pending.shift();
    if (queued) return queued;
    if (r.chance(0.003)) return { op: 'unlink', file: r.int(0, FILE_COUNT - 1) };
    if (r.chance(0.01)) return { op: 'fork' };
    if (r.chance(0.002)) return { op: 'forkchild' }; // the rest of the script runs in a child
    if (this.layout.touch !== false && r.chance(0.15)) return touchOp(this.p);
    const x = r.next();
    if (x < 0.3) return r.chance(0.12) ? badMmapOp(this.p) : mmapOp(this.p);
    if (x < 0.48) return munmapOp(this.p);
    if (x < 0.66) return mprotectOp(this.p);
    if (x < 0.84) return this.mremapOnFreshVma();
    if (x < 0.89) return brkOp(this.p);
    if (x < 0.95) return madviseOp(this.p);
    if (this.layout.anonNames) return anonOp(this.p);
    return mmapOp(this.p);
  }
}

/** The probes, then `ops` generated ops (checkpoints every CHECK_EVERY included), then a check. */
export function generateScript(seed: number, ops: number, layout: ScriptLayout): Op[] {
  const gen = new Generator(new RandomPicks(new Rng(seed), layout));
  const out: Op[] = probeAddresses(layout).map((addr) => ({ op: 'probe', addr }));
  for (let i = 0; i < ops; i++) out.push(gen.op(i));
  if (out[out.length - 1]!.op !== 'check') out.push({ op: 'check' });
  return out;
}
