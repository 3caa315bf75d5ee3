/** Shared set-up for the strategy tests: an mm with real RCU grace, a reader context, and reads. */
import { MmGlobals, type MmStruct } from '../../../src/mm/mm-struct.js';
import { buildTemplate, type TemplateName } from '../../../src/mm/templates/index.js';
import { readWholeMaps } from '../../../src/procfs/maps-text.js';
import { ProcmapQueryResult, procmapQuery, queryArgs } from '../../../src/procfs/procmap-query.js';
import {
  createReaderContext,
  type ReaderContext,
  type ReadStrategy,
  type StrategyHooks,
} from '../../../src/procfs/strategies/strategy.js';
import { directMapsWalker, directQueryTarget } from '../../../src/procfs/vma-capture.js';
import { RcuDomain } from '../../../src/sync/rcu.js';

export const globals = MmGlobals.create({
  maxFiles: 4096,
  fileHeapBytes: 1 << 20,
  anonNameSlots: 1024,
});
export const rcu = RcuDomain.create();

export function templateMm(name: TemplateName, seed = 7): MmStruct {
  return buildTemplate(name, { globals, seed, grace: rcu, maxVmas: 4096 });
}

export function context(hooks: StrategyHooks | null = null, retryLimit?: number): ReaderContext {
  return createReaderContext({ rcu, recorder: null, hooks, retryLimit });
}

/** The whole file as one string, and its chunks, read through `s`. */
export function readAll(
  s: ReadStrategy,
  ctx: ReaderContext,
  mm: MmStruct,
  limit: number,
): { text: string; chunks: string[]; err: number } {
  const chunks: string[] = [];
  const err = s.readMaps(ctx, mm, limit, (b) => chunks.push(Buffer.from(b).toString('latin1')));
  return { text: chunks.join(''), chunks, err };
}

/** The reference text: the direct walker with no concurrency at all. */
export function directText(mm: MmStruct, limit = 0): string {
  return Buffer.from(readWholeMaps(directMapsWalker(mm), limit)).toString('latin1');
}

export interface Answer {
  r: number;
  start?: number;
  end?: number;
  flags?: number;
  offset?: number;
  inode?: number;
  name?: string | null;
}

function answer(r: number, out: ProcmapQueryResult): Answer {
  if (r !== 0) return { r };
  return {
    r,
    start: out.vmaStart,
    end: out.vmaEnd,
    flags: out.vmaFlags,
    offset: out.vmaOffset,
    inode: out.inode,
    name: out.nameString(),
  };
}

export function strategyQuery(
  s: ReadStrategy,
  ctx: ReaderContext,
  mm: MmStruct,
  addr: number,
  flags: number,
): Answer {
  const out = new ProcmapQueryResult();
  return answer(s.query(ctx, mm, queryArgs(addr, flags, true, false), out), out);
}

export function directQuery(mm: MmStruct, addr: number, flags: number): Answer {
  const out = new ProcmapQueryResult();
  return answer(procmapQuery(queryArgs(addr, flags, true, false), directQueryTarget(mm), out), out);
}

/** Parses `start-end` of a maps line. */
export function lineRange(line: string): [number, number] {
  const [a, b] = line.split(' ')[0].split('-');
  return [Number.parseInt(a, 16), Number.parseInt(b, 16)];
}
