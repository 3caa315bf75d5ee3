// The engine side of the helper's checkpoint queries: the same PROCMAP_QUERY calls, in the same
// order, printed in the same `q ...` line format as print_query() in procfs-oracle.c. Keep the two
// in step: any change to the C query list must be made here too.

import {
  PROCMAP_QUERY_COVERING_OR_NEXT_VMA as COVERING,
  PROCMAP_QUERY_FILE_BACKED_VMA as FILE_BACKED,
  type ProcmapQueryArgs,
  ProcmapQueryResult,
  PROCMAP_QUERY_VMA_EXECUTABLE as Q_EXEC,
  PROCMAP_QUERY_VMA_READABLE as Q_READ,
  PROCMAP_QUERY_VMA_SHARED as Q_SHARED,
  PROCMAP_QUERY_VMA_WRITABLE as Q_WRITE,
} from '../../src/procfs/procmap-query.js';

/** Runs one query against the engine: 0 or -errno, answer in `out`. */
export type QueryRunner = (args: ProcmapQueryArgs, out: ProcmapQueryResult) => number;

/** Sizes of the helper's buffers (name_buf, build_id_buf); stand-in non-zero addresses. */
const NAME_BUF = 4096;
const BUILD_ID_BUF = 64;
const BUF_ADDR = 1;
/** sizeof(struct procmap_query) */
const STRUCT = 104;

const PROBE_FLAGS = [
  0,
  Q_READ,
  Q_WRITE,
  Q_EXEC,
  Q_SHARED,
  FILE_BACKED,
  Q_READ | Q_WRITE | Q_SHARED,
  COVERING | Q_WRITE,
  COVERING | Q_EXEC,
  COVERING | Q_SHARED,
  COVERING | FILE_BACKED,
  COVERING | Q_READ | Q_WRITE | Q_SHARED,
];
/** The argument-check cases run on the binary's first page and the first ERROR_PROBES probes. */
const ERROR_PROBES = 3;
/** The helper binary's first page (static, non-PIE: 0x400000). */
export const BINARY_BASE = 0x400000;

function hex(v: number): string {
  return `0x${BigInt(v).toString(16)}`;
}

function args(partial: Partial<ProcmapQueryArgs> & { queryAddr: number }): ProcmapQueryArgs {
  return {
    size: STRUCT,
    queryFlags: 0,
    vmaNameSize: 0,
    vmaNameAddr: 0,
    buildIdSize: 0,
    buildIdAddr: 0,
    ...partial,
  };
}

/**
 * Formats one answer as print_query() does. Only min(size, 104) bytes of the struct are copied
 * back by the kernel; the helper zeroed the struct before the call, so the rest reads as 0.
 */
function line(label: string, a: ProcmapQueryArgs, err: number, r: ProcmapQueryResult): string {
  const head = `q ${label} ${hex(a.queryAddr)} ${hex(a.queryFlags)} `;
  if (err < 0) return `${head}${err}`;
  const copied = Math.min(a.size, STRUCT);
  const field = (offset: number, value: number) => (copied >= offset + 8 ? value : 0);
  const field32 = (offset: number, value: number) => (copied >= offset + 4 ? value : 0);
  const start = field(24, r.vmaStart);
  const end = field(32, r.vmaEnd);
  const flags = field(40, r.vmaFlags);
  const pgsize = field(48, r.vmaPageSize);
  const off = field(56, r.vmaOffset);
  const inode = field(64, r.inode);
  const major = field32(72, r.devMajor);
  const minor = field32(76, r.devMinor);
  const nameSize = field32(80, r.vmaNameSize);
  const bidSize = field32(84, r.buildIdSize);
  const bidAddr = copied >= 104 ? a.buildIdAddr : 0;
  const nameAddr = copied >= 96 ? a.vmaNameAddr : 0;
  let bid = '-';
  if (bidSize !== 0 && bidAddr !== 0 && r.buildId) {
    bid = Buffer.from(r.buildId.subarray(0, Math.min(bidSize, BUILD_ID_BUF))).toString('hex');
  }
  const name =
    nameSize > 0 && nameAddr !== 0
      ? Buffer.from(r.name.subarray(0, nameSize - 1)).toString('latin1')
      : '';
  return `${head}ok ${hex(start)} ${hex(end)} ${hex(flags)} ${hex(pgsize)} ${hex(off)} ${inode} ${major} ${minor} ${bidSize} ${bid} ${nameSize} ${name}`;
}

function one(
  run: QueryRunner,
  label: string,
  a: ProcmapQueryArgs,
  out: string[],
): {
  err: number;
  res: ProcmapQueryResult;
} {
  const res = new ProcmapQueryResult();
  const err = run(a, res);
  out.push(line(label, a, err, res));
  return { err, res };
}

function stdArgs(addr: number, flags: number, withBuildId: boolean): ProcmapQueryArgs {
  return args({
    queryAddr: addr,
    queryFlags: flags,
    vmaNameSize: NAME_BUF,
    vmaNameAddr: BUF_ADDR,
    ...(withBuildId ? { buildIdSize: BUILD_ID_BUF, buildIdAddr: BUF_ADDR } : {}),
  });
}

function walk(run: QueryRunner, label: string, extra: number, out: string[]): void {
  let addr = 0;
  for (let guard = 0; guard < 70000; guard++) {
    const { err, res } = one(run, label, stdArgs(addr, COVERING | extra, false), out);
    if (err < 0 || res.vmaEnd === 0 || res.vmaEnd <= addr) return;
    addr = res.vmaEnd;
  }
}

function errorQueries(run: QueryRunner, addr: number, out: string[]): void {
  one(run, 'size23', args({ queryAddr: addr, size: 23 }), out);
  one(run, 'size0', args({ queryAddr: addr, size: 0 }), out);
  one(run, 'size24', args({ queryAddr: addr, size: 24 }), out);
  one(run, 'size4097', args({ queryAddr: addr, size: 4097 }), out);
  one(run, 'size128', args({ queryAddr: addr, size: 128 }), out);
  one(run, 'size128dirty', args({ queryAddr: addr, size: 128, trailingNonZero: true }), out);
  one(run, 'badflags', args({ queryAddr: addr, queryFlags: 0x40 }), out);
  one(run, 'namesize-noaddr', args({ queryAddr: addr, vmaNameSize: 16 }), out);
  one(run, 'nameaddr-nosize', args({ queryAddr: addr, vmaNameAddr: BUF_ADDR }), out);
  one(run, 'bidsize-noaddr', args({ queryAddr: addr, buildIdSize: 20 }), out);
  one(run, 'name1', args({ queryAddr: addr, vmaNameSize: 1, vmaNameAddr: BUF_ADDR }), out);
  one(run, 'bid1', args({ queryAddr: addr, buildIdSize: 1, buildIdAddr: BUF_ADDR }), out);
  const { err, res } = one(run, 'bid64', stdArgs(addr, 0, true), out);
  // Name buffers of exactly strlen(name) (no room for the NUL) and strlen + 1.
  const need = err < 0 ? 0 : res.vmaNameSize;
  if (need > 1) {
    for (let size = need - 1; size <= need; size++) {
      const label = size < need ? 'name-nul-short' : 'name-exact';
      one(run, label, args({ queryAddr: addr, vmaNameSize: size, vmaNameAddr: BUF_ADDR }), out);
    }
  }
}

/** print_queries() of the helper. */
export function querySuite(run: QueryRunner, probes: readonly number[], out: string[]): void {
  walk(run, 'walk', 0, out);
  walk(run, 'walk-file', FILE_BACKED, out);
  walk(run, 'walk-rw', Q_READ | Q_WRITE, out);
  for (const p of probes) for (const f of PROBE_FLAGS) one(run, 'probe', stdArgs(p, f, false), out);
  errorQueries(run, BINARY_BASE, out);
  for (const p of probes.slice(0, ERROR_PROBES)) errorQueries(run, p, out);
}
