// What the differential tests need to know about the machine they run on, and how they learned
// it. The kernel is asked where it can be (the helper's header: pkey_alloc, prctl, sysctls); the
// rest comes from /proc and /sys. Every test that depends on one of these prints the summary
// (`describeHost`), so a run's output says which machine it compared against.
//
// Each host property either configures the engine (protection keys, CONFIG_ANON_VMA_NAME,
// max_map_count, the zero page), is pinned by the helper (ASLR off, RLIMIT_STACK, environment, static binary), or
// is a precondition of the simulated kernel that `hostPreconditionProblems` checks and names
// (vsyscall=xonly, overcommit_memory != 2, CONFIG_TRANSPARENT_HUGEPAGE).

import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { cpuinfoHasOspke } from '../../src/machine-caps.js';
import { probeHost } from './differential.js';
import { runningKdamonds } from './host-noise.js';
import type { OracleHeader } from './transcript.js';

const EINVAL = 22;
const ENOSPC = 28;
const ENOSYS = 38;

export interface HostCapabilities {
  /** The kernel gives execute-only mappings a protection key (x86 PKU + OSPKE). */
  pkeys: boolean;
  /** How `pkeys` was found: the kernel's pkey_alloc answer, or the cpuinfo fallback. */
  pkeysSource: string;
  /** CONFIG_ANON_VMA_NAME (prctl PR_SET_VMA_ANON_NAME works). */
  anonVmaName: boolean;
  maxMapCount: number;
  /** Read faults on private anonymous memory map the zero page (Linux's rule; some guests don't). */
  zeroPage: boolean;
  /** `--xp` xonly (6.18's default), `r-xp` emulate, `none` (no [vsyscall] line). */
  vsyscall: string;
  cpuModel: string;
  /** The CPU flags that matter here, as /proc/cpuinfo lists them (`pku`, `ospke`). */
  cpuFlags: string[];
  cores: number;
  overcommitMemory: string;
  transparentHugepage: boolean;
  /**
   * CONFIG_PT_RECLAIM (MADV_DONTNEED frees the PTE tables it empties; the engine models it):
   * 'y', 'not set', or 'unknown' when the kernel config cannot be read.
   */
  ptReclaim: string;
}

/** The running kernel's build config (/proc/config.gz, else /boot/config-<release>), or ''. */
function kernelConfig(): string {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString('latin1');
  } catch {
    return readOr(`/boot/config-${release()}`, '');
  }
}

function configOption(config: string, name: string): string {
  if (config === '') return 'unknown';
  return new RegExp(`^${name}=(\\S+)$`, 'm').exec(config)?.[1] ?? 'not set';
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return fallback;
  }
}

function readCpuinfo(): string {
  return readOr('/proc/cpuinfo', '');
}

function errnoText(n: number): string {
  if (n === -EINVAL) return 'EINVAL';
  if (n === -ENOSPC) return 'ENOSPC';
  if (n === -ENOSYS) return 'ENOSYS';
  return `errno ${-n}`;
}

/**
 * pkey_alloc's answer decides: a key means the kernel hands out protection keys (so it also gives
 * execute-only mappings one); without OSPKE the kernel refuses with ENOSPC (only key 0 exists) or
 * EINVAL (arch_set_user_pkey_access() refuses: 6.18 answers this, flags and init_val being 0), and
 * a kernel built without pkeys with ENOSYS. Anything else (a seccomp filter refusing the call, an old helper) falls
 * back to the `ospke` flag in /proc/cpuinfo, which is the same kernel feature bit.
 */
export function pkeysOf(
  header: OracleHeader,
  cpuinfo: () => string = readCpuinfo,
): { pkeys: boolean; source: string } {
  const r = header.pkeyAlloc;
  if (r > 0) return { pkeys: true, source: `pkey_alloc gave key ${r}` };
  if (r === -EINVAL || r === -ENOSPC || r === -ENOSYS) {
    return { pkeys: false, source: `pkey_alloc: ${errnoText(r)}` };
  }
  const ospke = cpuinfoHasOspke(cpuinfo());
  const why = Number.isNaN(r) ? 'no pkey_alloc answer' : `pkey_alloc: ${errnoText(r)}`;
  return { pkeys: ospke, source: `${why}; /proc/cpuinfo ${ospke ? 'has' : 'lacks'} ospke` };
}

export function hostCapabilitiesOf(header: OracleHeader): HostCapabilities {
  const cpuinfo = readCpuinfo();
  const { pkeys, source } = pkeysOf(header, () => cpuinfo);
  const gate = header.initialMaps.split('\n').find((l) => l.endsWith(' [vsyscall]'));
  const flags = /^flags\s*:(.*)$/m.exec(cpuinfo)?.[1]?.trim().split(/\s+/) ?? [];
  return {
    pkeys,
    pkeysSource: source,
    anonVmaName: header.anonVmaName,
    maxMapCount: header.maxMapCount,
    zeroPage: header.zeroPage,
    vsyscall: gate === undefined ? 'none' : (gate.split(' ')[1] ?? '?'),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown',
    cpuFlags: flags.filter((f) => f === 'pku' || f === 'ospke'),
    cores: availableParallelism(),
    overcommitMemory: readOr('/proc/sys/vm/overcommit_memory', '?').trim(),
    transparentHugepage: readOr('/sys/kernel/mm/transparent_hugepage/enabled', '') !== '',
    ptReclaim: configOption(kernelConfig(), 'CONFIG_PT_RECLAIM'),
  };
}

let cached: Promise<HostCapabilities> | undefined;

/** The capabilities of this machine (one helper run per test process). */
export function hostCapabilities(): Promise<HostCapabilities> {
  cached ??= probeHost().then(hostCapabilitiesOf);
  return cached;
}

/** One line per property, for t.diagnostic. */
export function describeHost(c: HostCapabilities): string[] {
  const flags = c.cpuFlags.length > 0 ? c.cpuFlags.join(' ') : 'neither pku nor ospke';
  return [
    `host CPU: ${c.cpuModel}, ${c.cores} cores, cpuinfo flags: ${flags}`,
    `host protection keys: ${c.pkeys ? 'yes' : 'no'} (${c.pkeysSource}); engine configured to match`,
    `host CONFIG_ANON_VMA_NAME: ${c.anonVmaName ? 'yes' : 'no'}; max_map_count ${c.maxMapCount}`,
    `host zero page for read faults: ${c.zeroPage ? 'yes' : 'no (read-populated anonymous memory gets an anon_vma)'}; engine configured to match`,
    `host vsyscall: ${c.vsyscall}; overcommit_memory ${c.overcommitMemory}; THP ${c.transparentHugepage ? 'built in' : 'absent'}`,
    `host THP mode: ${thpMode()}; engine configured to match (huge pages: thp.test.ts)`,
    `host DAMON: ${damonLine()}`,
    `host CONFIG_PT_RECLAIM: ${c.ptReclaim}${c.ptReclaim === 'unknown' ? ' (no readable kernel config; the engine assumes y)' : ''}`,
  ];
}

function damonLine(): string {
  const k = runningKdamonds();
  if (k.length === 0) return 'no kdamond running';
  return `kdamond ${k.join(', ')} running (host noise: a differing run is run again, host-noise.ts)`;
}

/** The bracketed word of /sys/kernel/mm/transparent_hugepage/enabled ('absent' without THP). */
export function thpMode(path = '/sys/kernel/mm/transparent_hugepage/enabled'): string {
  try {
    return /\[(\w+)\]/.exec(readFileSync(path, 'latin1'))?.[1] ?? 'unknown';
  } catch {
    return 'absent';
  }
}

/**
 * What the simulated kernel takes as given and this host does not provide (empty when all is
 * well). These are build options and sysctls of the reference kernel the engine models
 * (src/mm/syscalls/tunables.ts); a test cannot change them, so it names them and stops.
 */
export function hostPreconditionProblems(c: HostCapabilities): string[] {
  const problems: string[] = [];
  if (c.vsyscall !== '--xp') {
    problems.push(
      `[vsyscall] is ${c.vsyscall}: the engine models vsyscall=xonly (Linux 6.18's default, a '--xp' gate line)`,
    );
  }
  if (c.overcommitMemory === '2') {
    problems.push('vm.overcommit_memory is 2: the engine models 0/1 (MAP_NORESERVE honoured)');
  }
  if (!c.transparentHugepage) {
    problems.push(
      'no /sys/kernel/mm/transparent_hugepage: the engine models CONFIG_TRANSPARENT_HUGEPAGE=y',
    );
  }
  if (c.ptReclaim === 'not set') {
    problems.push(
      'CONFIG_PT_RECLAIM is not set: the engine models it (MADV_DONTNEED frees the PTE tables it empties)',
    );
  }
  return problems;
}
