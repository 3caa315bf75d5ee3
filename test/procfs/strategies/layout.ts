/**
 * A small known layout for the deterministic retry/fallback tests: the `minimal` template plus
 * eight 2-page anonymous VMAs V0..V7 at BASE with alternating prot (so they never merge), V4
 * left out (a 2-page hole between V3 and V5), and V6 named `old` by prctl. Built
 * single-threaded (no locks), with the shared RCU domain as grace periods.
 */
import type { MmStruct } from '../../../src/mm/mm-struct.js';
import { mmWrite } from '../../../src/mm/mm-writer.js';
import {
  mmap,
  prctlSetVmaAnonName,
  SINGLE_THREADED_HOOKS,
  setVmaLockHooks,
} from '../../../src/mm/syscalls/index.js';
import { MAP_ANONYMOUS, MAP_FIXED_NOREPLACE, MAP_PRIVATE } from '../../../src/mm/vm-flags.js';
import type { StrategyHooks } from '../../../src/procfs/strategies/strategy.js';
import { templateMm } from './helpers.js';

export const PAGE = 4096;
export const BASE = 0x2_0000_0000;
/** Start of V_i. */
export const v = (i: number) => BASE + i * 2 * PAGE;
export const PROT_OF = (i: number) => (i % 2 === 0 ? 3 : 1);
export const writerEnv = { recorder: null, strategy: 1 as const };

export function layoutMm(): MmStruct {
  const prev = setVmaLockHooks(SINGLE_THREADED_HOOKS);
  try {
    const mm = templateMm('minimal');
    for (let i = 0; i < 8; i++) {
      if (i === 4) continue;
      const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
      const r = mmap(mm, v(i), 2 * PAGE, PROT_OF(i), flags);
      if (r !== v(i)) throw new Error(`layout: mmap V${i} gave ${r}`);
    }
    if (prctlSetVmaAnonName(mm, v(6), 2 * PAGE, 'old') !== 0) throw new Error('layout: name');
    return mm;
  } finally {
    setVmaLockHooks(prev);
  }
}

/** One write through the writer protocol on this thread. */
export function write(mm: MmStruct, fn: () => number): number {
  return mmWrite(mm, writerEnv, 0, fn);
}

type HookName = keyof StrategyHooks;

/**
 * Hooks that run `fn` at hook point `at` for the VMA starting at `start`, the first `times` times
 * only; `calls` counts every call of that hook point (any VMA).
 */
export function hookAt(
  at: HookName,
  start: number,
  times: number,
  fn: (mm: MmStruct, id: number) => void,
): { hooks: StrategyHooks; calls: { n: number; fired: number } } {
  const calls = { n: 0, fired: 0 };
  const hook = (mm: MmStruct, id: number) => {
    calls.n++;
    if (calls.fired < times && mm.vmas.start(id) === start) {
      calls.fired++;
      fn(mm, id);
    }
  };
  return { hooks: { [at]: hook } as StrategyHooks, calls };
}
