/**
 * Test helper: an address space as a plain sorted array of `VmaView`s, built from maps text
 * with the parser, so the formatter, the chunker and the query matcher can be tested without the
 * shared-memory store (and so the store binding can be compared against it).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KIND_ANON,
  KIND_ANON_NAME,
  KIND_ANON_SHMEM,
  KIND_GATE,
  KIND_HEAP,
  KIND_PATH,
  KIND_SPECIAL,
  KIND_STACK,
  parseMaps,
} from '../../src/mm/maps-parse.js';
import type { MapsWalker } from '../../src/procfs/maps-text.js';
import type { QueryTarget } from '../../src/procfs/procmap-query.js';
import {
  NAME_ANON,
  NAME_ANON_SHMEM,
  NAME_HEAP,
  NAME_NONE,
  NAME_PATH,
  NAME_SPECIAL,
  NAME_STACK,
} from '../../src/procfs/vma-name.js';
import { VmaView } from '../../src/procfs/vma-view.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/fixtures, found from both test/procfs (tsx) and dist/test/procfs (compiled). */
export const FIXTURES = here.includes(`${join('dist', 'test')}`)
  ? join(here, '..', '..', '..', 'test', 'fixtures')
  : join(here, '..', 'fixtures');

export const REAL_MAPS = [
  'bash.maps',
  'cat.maps',
  'bash-host.maps',
  'node-host.maps',
  'java-host.maps',
  'java24-host.maps',
  'edge-host.maps',
];

export function readFixture(name: string): string {
  return readFileSync(join(FIXTURES, 'real-maps', name), 'latin1');
}

const KIND_TO_NAME: Record<number, number> = {
  [KIND_ANON]: NAME_NONE,
  [KIND_PATH]: NAME_PATH,
  [KIND_HEAP]: NAME_HEAP,
  [KIND_STACK]: NAME_STACK,
  [KIND_ANON_NAME]: NAME_ANON,
  [KIND_ANON_SHMEM]: NAME_ANON_SHMEM,
  [KIND_SPECIAL]: NAME_SPECIAL,
};

export interface FakeMm {
  vmas: VmaView[];
  hasGate: boolean;
}

/** Builds views straight from the text (names taken as printed, not re-derived from brk etc.). */
export function fakeMmFromText(text: string): FakeMm {
  const vmas: VmaView[] = [];
  let hasGate = false;
  for (const l of parseMaps(text)) {
    if (l.kind === KIND_GATE) {
      hasGate = true;
      continue;
    }
    const v = new VmaView();
    v.id = vmas.length + 1;
    v.start = l.start;
    v.end = l.end;
    v.flags = (l.read ? 1 : 0) | (l.write ? 2 : 0) | (l.exec ? 4 : 0) | (l.shared ? 0x80 : 0);
    v.hasFile = l.kind === KIND_PATH || l.kind === KIND_ANON_SHMEM;
    v.pgoff = l.offset / 4096;
    v.devMajor = l.devMajor;
    v.devMinor = l.devMinor;
    v.inode = l.inode;
    v.fileId = v.hasFile ? v.id : 0;
    // A file's serial keys its path text (QueryScratch.knownName): one per fake file.
    v.fileSerial = v.fileId;
    v.nameKind = KIND_TO_NAME[l.kind];
    v.deleted = l.deleted;
    const body = l.kind === KIND_HEAP || l.kind === KIND_STACK ? '' : l.name;
    v.nameSrc = Buffer.from(body, 'latin1');
    v.nameFrom = 0;
    v.nameTo = v.nameSrc.length;
    vmas.push(v);
  }
  return { vmas, hasGate };
}

/** First VMA with end > from (binary search), as find_vma. */
export function findIndex(vmas: readonly VmaView[], from: number): number {
  let lo = 0;
  let hi = vmas.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (vmas[mid].end > from) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A walker over a fake mm (it never formats: `next` needs no sink). */
export function fakeWalker(mm: FakeMm): MapsWalker & { next(from: number, view: VmaView): number } {
  return {
    hasGate: mm.hasGate,
    next(from: number, view: VmaView): number {
      const i = findIndex(mm.vmas, from);
      if (i >= mm.vmas.length) return 0;
      view.copyFrom(mm.vmas[i]);
      return 1;
    },
  };
}

export function fakeQueryTarget(
  mm: FakeMm,
  opts: { alive?: boolean; setupErr?: number; buildIds?: Map<number, Uint8Array> } = {},
): QueryTarget & { setups: number; teardowns: number } {
  const walker = fakeWalker(mm);
  return {
    setups: 0,
    teardowns: 0,
    alive: () => opts.alive ?? true,
    setup() {
      this.setups++;
      return opts.setupErr ?? 0;
    },
    next: (addr, view) => walker.next(addr, view),
    teardown() {
      this.teardowns++;
    },
    buildId: (fileId) => opts.buildIds?.get(fileId) ?? null,
  };
}

/** Deterministic PRNG (mulberry32) for tests that need varied but reproducible layouts. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Compares texts line by line (node's assert diff of two long strings can take minutes). */
export function sameText(actual: string, expected: string, what = ''): void {
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) throw new Error(`${what} line ${i + 1}: got ${a[i]} want ${e[i]}`);
  }
}
