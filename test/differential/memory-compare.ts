// What the differential compares of smaps, smaps_rollup and status: the sandbox's share.
//
// The helper process has pages the engine does not model: its binary's text and data, its bss
// (the static buffers), [heap], [stack], [vdso]. Both sides print the three files whole at each
// checkpoint (rollup, status, smaps: oracle-memory.h), and this turns each side's three blocks
// into the lines that are compared:
//
// - smaps: every block of a VMA that is not the helper's, byte for byte. The helper's are those
//   overlapping a VMA of its initial layout, and those named [heap], [stack], [vvar],
//   [vvar_vclock], [vdso], [vsyscall] (so a script VMA merged into one of the helper's is left
//   out with it).
// - smaps_rollup: its header line byte for byte (first VMA start to last VMA end), and each
//   field minus the sum of that field over the helper's blocks of the same smaps read (the
//   sandbox's share). The Pss lines are left out: the helper binary's page-cache pages are
//   shared with every helper running at the same time, so its per-VMA Pss is truncated from
//   fractions that change run to run (the sandbox's Pss is compared in its smaps blocks);
//   Pss_Anon/Pss_File/Pss_Shmem are not in the smaps blocks either. Shared_X and Private_X are
//   compared as their sum (see ROLLUP_SUMMED).
// - status: VmPeak, VmSize, VmLck, VmPin, VmData, VmStk, VmExe, VmLib, VmSwap, HugetlbPages
//   byte for byte (they follow from the VMAs alone; VmPeak from the helper's peak before the
//   script, which the header gives the engine); VmRSS, RssAnon, RssFile minus the helper's Rss,
//   Anonymous and (Rss - Anonymous); RssShmem as is (the helper has no shmem). VmHWM (the high-
//   water mark of the helper's whole life: its own pages count) and VmPTE (page tables, which
//   the helper's VMAs share with the script's) are not compared.

const VMA_LINE = /^([0-9a-f]+)-([0-9a-f]+) /;
const HELPER_NAMES = ['[heap]', '[stack]', '[vvar]', '[vvar_vclock]', '[vdso]', '[vsyscall]'];
const STATUS_AS_IS = [
  'VmPeak',
  'VmSize',
  'VmLck',
  'VmPin',
  'VmData',
  'VmStk',
  'VmExe',
  'VmLib',
  'VmSwap',
  'HugetlbPages',
  'RssShmem',
  'VmPTE',
];
const ROLLUP_SKIPPED = new Set(['Pss', 'Pss_Dirty', 'Pss_Anon', 'Pss_File', 'Pss_Shmem']);
// The helper's Shared/Private split is not stable between the rollup read and the smaps read: its
// binary's page-cache pages (dirty until written back after gcc wrote them) count as Shared while
// another helper maps the same binary. So the rollup's Shared_X + Private_X is compared as one sum
// (the sandbox's own split is compared byte for byte in its smaps blocks).
const ROLLUP_SUMMED: Record<string, string> = {
  Shared_Clean: 'Clean',
  Private_Clean: 'Clean',
  Shared_Dirty: 'Dirty',
  Private_Dirty: 'Dirty',
};

export type Ranges = ReadonlyArray<readonly [number, number]>;

/** The VMA ranges of a maps text (the gate line excluded). */
export function mapsRanges(maps: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const line of maps.split('\n')) {
    const m = VMA_LINE.exec(line);
    if (!m) continue;
    const start = Number.parseInt(m[1]!, 16);
    if (start >= 2 ** 47) continue;
    out.push([start, Number.parseInt(m[2]!, 16)]);
  }
  return out;
}

interface Block {
  lines: string[];
  helper: boolean;
  kb: Map<string, number>;
}

function fieldKb(line: string): [string, number] | null {
  const m = /^([A-Za-z_]+):\s+(\d+)( kB)?$/.exec(line);
  return m ? [m[1]!, Number(m[2])] : null;
}

function smapsBlocks(smaps: string, helper: Ranges): Block[] {
  const blocks: Block[] = [];
  for (const line of smaps.split('\n')) {
    if (line === '') continue;
    const m = VMA_LINE.exec(line);
    if (m) {
      const start = Number.parseInt(m[1]!, 16);
      const end = Number.parseInt(m[2]!, 16);
      const named = HELPER_NAMES.some((n) => line.endsWith(` ${n}`));
      const overlaps = helper.some(([s, e]) => start < e && s < end);
      blocks.push({ lines: [line], helper: named || overlaps, kb: new Map() });
      continue;
    }
    const b = blocks[blocks.length - 1];
    if (!b) throw new Error(`smaps: a field before the first VMA: ${line}`);
    b.lines.push(line);
    const f = fieldKb(line);
    if (f) b.kb.set(f[0], f[1]);
  }
  return blocks;
}

/** The compared lines of one checkpoint's three memory blocks (see the top of this file). */
export function memoryLines(
  rollup: string,
  status: string,
  smaps: string,
  helper: Ranges,
): string[] {
  const blocks = smapsBlocks(smaps, helper);
  const helperSum = (field: string) =>
    blocks.reduce((sum, b) => sum + (b.helper ? (b.kb.get(field) ?? 0) : 0), 0);
  const out: string[] = [];
  const summed: Record<string, number> = { Clean: 0, Dirty: 0 };
  for (const b of blocks) if (!b.helper) out.push(...b.lines);
  for (const line of rollup.split('\n')) {
    if (line === '') continue;
    const f = fieldKb(line);
    if (!f) out.push(`rollup ${line}`);
    else if (ROLLUP_SUMMED[f[0]]) summed[ROLLUP_SUMMED[f[0]]] += f[1] - helperSum(f[0]);
    else if (!ROLLUP_SKIPPED.has(f[0])) out.push(`rollup ${f[0]} ${f[1] - helperSum(f[0])}`);
  }
  for (const [name, kb] of Object.entries(summed)) out.push(`rollup ${name} ${kb}`);
  const rss = helperSum('Rss');
  const anon = helperSum('Anonymous');
  const less: Record<string, number> = { VmRSS: rss, RssAnon: anon, RssFile: rss - anon };
  for (const line of status.split('\n')) {
    const f = fieldKb(line);
    if (!f) continue;
    if (STATUS_AS_IS.includes(f[0])) out.push(`status ${line}`);
    else if (less[f[0]] !== undefined) out.push(`status ${f[0]} ${f[1] - less[f[0]]!}`);
  }
  return out;
}
