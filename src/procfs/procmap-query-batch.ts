/**
 * Helpers around PROCMAP_QUERY for the service: answers as plain data, the batch form of the API
 * (`POST /proc/:pid/procmap_query`), and flag names as API.md spells them.
 */
import { EINVAL } from '../mm/errno.js';
import {
  PROCMAP_QUERY_FLAG_NAMES,
  ProcmapQueryResult,
  procmapQuery,
  type QueryScratch,
  type QueryTarget,
  queryArgs,
} from './procmap-query.js';

const PATH_MAX = 4096;

/** One answer as plain data (what the batch helper and the HTTP layer hand out). */
export interface QueryAnswerData {
  vmaStart: number;
  vmaEnd: number;
  vmaFlags: number;
  vmaPageSize: number;
  vmaOffset: number;
  inode: number;
  devMajor: number;
  devMinor: number;
  /** Raw name (no `\012` escaping), null when the VMA has none or it was not asked for. */
  vmaName: string | null;
  /** Build ID bytes, null when none or not asked for. */
  buildId: Uint8Array | null;
}

/** Copies a result into plain data. */
export function answerData(r: ProcmapQueryResult): QueryAnswerData {
  return {
    vmaStart: r.vmaStart,
    vmaEnd: r.vmaEnd,
    vmaFlags: r.vmaFlags,
    vmaPageSize: r.vmaPageSize,
    vmaOffset: r.vmaOffset,
    inode: r.inode,
    devMajor: r.devMajor,
    devMinor: r.devMinor,
    vmaName: r.nameString(),
    buildId: r.buildIdSize > 0 ? r.buildId : null,
  };
}

/** One query of a batch, as the HTTP API describes it. */
export interface BatchQuery {
  addr: number;
  flags: number;
  name: boolean;
  buildId: boolean;
}

/**
 * A batch of independent PROCMAP_QUERY calls against one target, in order: each element is the
 * answer or -errno. Each answer is self-consistent; nothing is promised between answers (as
 * between successive ioctls): the target's setup/teardown brackets every single query.
 */
export function procmapQueryBatch(
  target: QueryTarget,
  queries: readonly BatchQuery[],
  scratch?: QueryScratch,
): Array<QueryAnswerData | number> {
  const out = new ProcmapQueryResult();
  const results: Array<QueryAnswerData | number> = new Array(queries.length);
  const args = queryArgs(0, 0, false, false);
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i];
    args.queryAddr = q.addr;
    args.queryFlags = q.flags;
    args.vmaNameSize = q.name ? PATH_MAX : 0;
    args.vmaNameAddr = q.name ? 1 : 0;
    args.buildIdSize = q.buildId ? 20 : 0;
    args.buildIdAddr = q.buildId ? 1 : 0;
    const r = procmapQuery(args, target, out, scratch);
    results[i] = r === 0 ? answerData(out) : r;
  }
  return results;
}

/** Flag bits → API names. */
export function queryFlagNames(flags: number): string[] {
  const names: string[] = [];
  for (const [name, bit] of PROCMAP_QUERY_FLAG_NAMES) if (flags & bit) names.push(name);
  return names;
}

/**
 * Parses API-style flags: a number, or `|`-separated names (`VMA_READABLE|COVERING_OR_NEXT_VMA`).
 * Unknown names give -EINVAL. (Unknown *bits* are left for procmapQuery to reject.)
 */
export function parseQueryFlags(spec: string | number): number {
  if (typeof spec === 'number') return spec;
  const s = spec.trim();
  if (s === '') return 0;
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(s)) return Number(s);
  let flags = 0;
  for (const part of s.split('|')) {
    const name = part.trim().replace(/^PROCMAP_QUERY_/, '');
    const entry = PROCMAP_QUERY_FLAG_NAMES.find(([n]) => n === name);
    if (!entry) return -EINVAL;
    flags |= entry[1];
  }
  return flags;
}
