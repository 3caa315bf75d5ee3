/**
 * Capabilities of the simulated machine that change what the kernel does (API.md "Machine
 * capabilities"): x86 protection keys (`--pkeys on|off|host`) and the transparent huge page mode
 * (`--thp always|madvise|never|host`).
 *
 * `host` follows the machine the service runs on. The kernel gives execute-only mappings a
 * protection key exactly when `cpu_feature_enabled(X86_FEATURE_OSPKE)`: the CPU has PKU, the
 * kernel was built with CONFIG_X86_INTEL_MEMORY_PROTECTION_KEYS and did not boot with `nopku`.
 * That feature is the `ospke` word of the `flags` lines in /proc/cpuinfo (`pku` alone, without
 * `ospke`, means the kernel did not enable it). A host that is not x86 (or has no /proc) has no
 * x86 protection keys.
 */
import { readFileSync } from 'node:fs';
import { THP_MODES, type ThpMode } from './mm/pages/thp.js';

export const PKEYS_MODES = ['on', 'off', 'host'] as const;
export type PkeysMode = (typeof PKEYS_MODES)[number];

export function isPkeysMode(s: string): s is PkeysMode {
  return (PKEYS_MODES as readonly string[]).includes(s);
}

/** Whether a /proc/cpuinfo text shows protection keys enabled by the kernel (`ospke`). */
export function cpuinfoHasOspke(cpuinfo: string): boolean {
  return /^flags\s*:.*\bospke\b/m.test(cpuinfo);
}

/** The running kernel's answer, from /proc/cpuinfo; false where that cannot be read. */
export function hostHasPkeys(cpuinfoPath = '/proc/cpuinfo'): boolean {
  try {
    return cpuinfoHasOspke(readFileSync(cpuinfoPath, 'latin1'));
  } catch {
    return false;
  }
}

/**
 * Whether read faults on private anonymous memory map the shared zero page here (Linux's rule),
 * or allocate a page: hypervisor guests booted with `pvm_no_zero_page=1` (this host family) do
 * not use it. The kernel command line is the one place a process can read that without faulting
 * memory itself (the differential test probes it with smaps instead).
 */
export function hostHasZeroPage(cmdlinePath = '/proc/cmdline'): boolean {
  try {
    return !/(^|\s)pvm_no_zero_page=(1|y|Y|on)(\s|$)/.test(readFileSync(cmdlinePath, 'latin1'));
  } catch {
    return true;
  }
}

/** The capability a mode stands for (`host`: detected now). */
export function resolvePkeys(mode: PkeysMode, host: () => boolean = hostHasPkeys): boolean {
  if (mode === 'host') return host();
  return mode === 'on';
}

export const THP_CONFIG_MODES = [...THP_MODES, 'host'] as const;
export type ThpConfigMode = (typeof THP_CONFIG_MODES)[number];

export function isThpConfigMode(s: string): s is ThpConfigMode {
  return (THP_CONFIG_MODES as readonly string[]).includes(s);
}

/**
 * The host's THP mode: the bracketed word of /sys/kernel/mm/transparent_hugepage/enabled
 * (`always [madvise] never`); `never` where THP is not built in (no such file) or it cannot be read.
 */
export function hostThpMode(path = '/sys/kernel/mm/transparent_hugepage/enabled'): ThpMode {
  try {
    const m = /\[(\w+)\]/.exec(readFileSync(path, 'latin1'));
    const mode = m?.[1];
    return mode === 'always' || mode === 'madvise' ? mode : 'never';
  } catch {
    return 'never';
  }
}

/** The THP mode a `--thp` value stands for (`host`: detected now). */
export function resolveThp(mode: ThpConfigMode, host: () => ThpMode = hostThpMode): ThpMode {
  return mode === 'host' ? host() : mode;
}
