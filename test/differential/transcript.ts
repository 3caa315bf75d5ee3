// The transcript: what one script run prints, on the kernel side (the C helper's stdout) and on
// the engine side (engine-transcript.ts writes the same format). Format, line by line:
//
//   header (oracle only):  oracle 1 / anon_vma_name 0|1 / pkey_alloc KEY|-errno / zero_page 0|1 /
//                          stat NAME 0xVALUE ... /
//                          max_map_count N / anon_vma 0xSTART... / file I MAJ MIN
//                          INO rdwr|rdonly PATH / vm_peak KB / maps-begin ... maps-end /
//                          q self ... (build ID)
//   body (both sides):     r OP RET                       one per syscall (RET hex, or -errno)
//                          fork-child OP + forkmaps-begin ... forkmaps-end   (the child's maps)
//                          check OP + maps-begin ... maps-end + chunks4096 N... (the sizes
//                          successive 4096-byte read()s return) + q ... lines + check-end
//                          done N
//
// Both bodies are normalised (normaliseBody) and compared line by line (firstDifference).

import { memoryLines, type Ranges } from './memory-compare.js';

export interface OracleFile {
  index: number;
  major: number;
  minor: number;
  inode: number;
  rdwr: boolean;
  path: string;
}

export interface OracleHeader {
  /** The host kernel has CONFIG_ANON_VMA_NAME (prctl PR_SET_VMA_ANON_NAME works). */
  anonVmaName: boolean;
  /**
   * What pkey_alloc(0, 0) answered in the helper: a key (> 0: the CPU has protection keys and the
   * kernel enabled them) or -errno (-ENOSPC: no PKU; -ENOSYS: a kernel without pkeys).
   * host-capabilities.ts turns it into the capability.
   */
  pkeyAlloc: number;
  /** Read faults on private anonymous memory map the zero page (false: they allocate pages). */
  zeroPage: boolean;
  /** /proc/self/stat fields and brk(0), by name: start_code, end_code, start_data, end_data,
   *  start_brk, start_stack, brk. */
  stat: Record<string, number>;
  /** vm.max_map_count of the host. */
  maxMapCount: number;
  /** Starts of the initial VMAs that hold anonymous pages (so have an anon_vma). */
  anonVmaStarts: number[];
  files: OracleFile[];
  /** The helper's VmPeak (kB) right before the script: its hiwater_vm (0 if not printed). */
  vmPeakKb: number;
  /** The helper's /proc/self/maps right after start, before the script. */
  initialMaps: string;
  /** Build ID (hex) of the helper binary, from PROCMAP_QUERY; '' if none. */
  binaryBuildId: string;
  /** Path of the helper binary, as maps prints it. */
  binaryPath: string;
}

export interface OracleTranscript {
  header: OracleHeader;
  body: string[];
}

function block(lines: string[], at: number, tag: string): { text: string; next: number } {
  if (lines[at] !== `${tag}-begin`) throw new Error(`transcript: expected ${tag}-begin at ${at}`);
  let i = at + 1;
  while (i < lines.length && lines[i] !== `${tag}-end`) i++;
  if (i >= lines.length) throw new Error(`transcript: unterminated ${tag} block`);
  const body = lines.slice(at + 1, i);
  return { text: body.length ? `${body.join('\n')}\n` : '', next: i + 1 };
}

/** Splits the helper's stdout into the header and the comparable body lines. */
export function parseOracleOutput(stdout: string): OracleTranscript {
  const lines = stdout.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[0] !== 'oracle 1') throw new Error(`transcript: not an oracle transcript: ${lines[0]}`);
  const fatal = lines.find((l) => l.startsWith('fatal '));
  if (fatal) throw new Error(`procfs-oracle: ${fatal}`);
  let i = 1;
  const anonLine = lines[i++] ?? '';
  const anonVmaName = anonLine === 'anon_vma_name 1';
  let pkeyAlloc = Number.NaN;
  if (lines[i]?.startsWith('pkey_alloc ')) pkeyAlloc = Number(lines[i++]!.split(' ')[1]);
  let zeroPage = true;
  if (lines[i]?.startsWith('zero_page ')) zeroPage = lines[i++] === 'zero_page 1';
  const stat: Record<string, number> = {};
  while (lines[i]?.startsWith('stat ')) {
    const [, name, value] = lines[i]!.split(' ');
    stat[name!] = Number(value);
    i++;
  }
  let maxMapCount = 0;
  if (lines[i]?.startsWith('max_map_count ')) maxMapCount = Number(lines[i++]!.split(' ')[1]);
  const anonVmaStarts: number[] = [];
  while (lines[i]?.startsWith('anon_vma ')) anonVmaStarts.push(Number(lines[i++]!.split(' ')[1]));
  const files: OracleFile[] = [];
  while (lines[i]?.startsWith('file ')) {
    const w = lines[i]!.split(' ');
    files.push({
      index: Number(w[1]),
      major: Number(w[2]),
      minor: Number(w[3]),
      inode: Number(w[4]),
      rdwr: w[5] === 'rdwr',
      path: w.slice(6).join(' '),
    });
    i++;
  }
  let vmPeakKb = 0;
  if (lines[i]?.startsWith('vm_peak ')) vmPeakKb = Number(lines[i++]!.split(' ')[1]);
  const maps = block(lines, i, 'maps');
  i = maps.next;
  const self = parseQueryLine(lines[i] ?? '');
  if (self?.label !== 'self') throw new Error('transcript: missing "q self" line');
  if (self.result !== 'ok') {
    throw new Error(
      `the host kernel answered PROCMAP_QUERY with ${self.result} (ENOTTY = -25: Linux >= 6.11 needed)`,
    );
  }
  i++;
  return {
    header: {
      anonVmaName,
      pkeyAlloc,
      zeroPage,
      stat,
      maxMapCount,
      anonVmaStarts,
      files,
      vmPeakKb,
      initialMaps: maps.text,
      binaryBuildId: self.buildIdHex === '-' ? '' : (self.buildIdHex ?? ''),
      binaryPath: self.name ?? '',
    },
    body: lines.slice(i),
  };
}

export interface QueryLine {
  label: string;
  addr: string;
  flags: string;
  /** 'ok' or '-errno'. */
  result: string;
  buildIdHex?: string;
  name?: string;
}

/** Parses a `q ...` line (only the fields the header needs). */
export function parseQueryLine(line: string): QueryLine | undefined {
  if (!line.startsWith('q ')) return undefined;
  const w = line.split(' ');
  const q: QueryLine = { label: w[1]!, addr: w[2]!, flags: w[3]!, result: w[4]! };
  if (q.result === 'ok') {
    // q LABEL ADDR FLAGS ok START END VMAFLAGS PGSIZE OFF INODE MAJ MIN BIDSZ BIDHEX NAMESZ NAME
    q.buildIdHex = w[14];
    q.name = w.slice(16).join(' ');
  }
  return q;
}

/** The device of the kernel's internal shmem mount (MAP_SHARED|MAP_ANONYMOUS memory). */
const SHMEM_DEV = '00:01';
const SHMEM_MAJOR = '0';
const SHMEM_MINOR = '1';

/**
 * Intended differences, removed from both sides before comparing:
 * - MAP_SHARED|MAP_ANONYMOUS mappings get a shmem inode the engine cannot know. Those mappings are
 *   the only ones on the shmem device 00:01, so the inode of every maps line on 00:01 (and the
 *   padding after it, whose width depends on it) and of every query answer on 0:1 becomes `*`;
 *   the name (`/dev/zero (deleted)`) and the device are still compared.
 */
export function normaliseLine(line: string): string {
  if (line.startsWith('q ')) {
    // q LABEL ADDR FLAGS ok START END VMAFLAGS PGSIZE OFF INODE MAJ MIN ...
    const w = line.split(' ');
    if (w[4] === 'ok' && w[11] === SHMEM_MAJOR && w[12] === SHMEM_MINOR && w[10] !== '0') {
      w[10] = '*';
      return w.join(' ');
    }
    return line;
  }
  // maps line: START-END PERMS OFFSET DEV INODE <pad to column 73> NAME
  const w = line.split(' ', 5);
  if (w[3] === SHMEM_DEV && /^[0-9a-f]+-[0-9a-f]+$/.test(w[0] ?? '')) {
    return line.replace(/^(\S+ \S+ \S+ \S+ )\d+ +/, (_m, head: string) => `${head}* `);
  }
  return line;
}

/**
 * A body ready to compare: each checkpoint's rollup/status/smaps blocks turned into the
 * sandbox's share (memory-compare.ts; `helper` = the helper's initial VMA ranges), then every
 * line through normaliseLine.
 */
export function normaliseBody(lines: readonly string[], helper: Ranges = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (lines[i] !== 'rollup-begin') {
      out.push(normaliseLine(lines[i]!));
      i++;
      continue;
    }
    const rollup = block(lines as string[], i, 'rollup');
    const status = block(lines as string[], rollup.next, 'status');
    const smaps = block(lines as string[], status.next, 'smaps');
    for (const l of memoryLines(rollup.text, status.text, smaps.text, helper)) {
      out.push(normaliseLine(l));
    }
    i = smaps.next;
  }
  return out;
}

export interface Difference {
  /** Index into the body lines. */
  line: number;
  /** The op whose output block holds the line (from the nearest preceding r/check/fork-child). */
  op: number;
  oracle: string | undefined;
  engine: string | undefined;
  /** A few lines before the difference (oracle side) for the report. */
  context: string[];
}

function opOf(lines: readonly string[], at: number): number {
  for (let i = at; i >= 0; i--) {
    const m = /^(?:r|check|fork-child|done) (\d+)/.exec(lines[i] ?? '');
    if (m) return Number(m[1]);
  }
  return 0;
}

/** The first differing line of two normalised bodies, or undefined when they are equal. */
export function firstDifference(
  oracle: readonly string[],
  engine: readonly string[],
): Difference | undefined {
  const n = Math.max(oracle.length, engine.length);
  for (let i = 0; i < n; i++) {
    if (oracle[i] !== engine[i]) {
      // Attribute the line to the op of its block: the header line of the block the oracle was in.
      return {
        line: i,
        op: opOf(oracle, Math.min(i, oracle.length - 1)),
        oracle: oracle[i],
        engine: engine[i],
        context: oracle.slice(Math.max(0, i - 4), i),
      };
    }
  }
  return undefined;
}
