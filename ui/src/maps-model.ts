/**
 * /proc/PID/maps lines as the page draws them: parsed with BigInt addresses (user addresses and
 * `[vsyscall]` exceed 2^53), classified by kind, and laid out on a vertical strip where every VMA
 * is to scale (with a minimum visible height) and every gap between VMAs gets a height that grows
 * with log2 of its size, so an address space of 128 TiB with 4 KiB holes fits one screen.
 */

export type VmaKind = 'file' | 'anon' | 'stack' | 'heap' | 'special' | 'named';
export const KINDS: readonly VmaKind[] = ['file', 'anon', 'heap', 'stack', 'named', 'special'];

export interface Vma {
  /** The maps line itself (also the identity used to flash what changed). */
  line: string;
  /** Hex as maps prints it (no 0x). */
  startHex: string;
  endHex: string;
  start: bigint;
  end: bigint;
  perms: string;
  offset: string;
  dev: string;
  inode: string;
  name: string;
  kind: VmaKind;
}

const PAGE = 4096n;

export function kindOf(name: string): VmaKind {
  if (name === '') return 'anon';
  if (name === '[stack]') return 'stack';
  if (name === '[heap]') return 'heap';
  if (name.startsWith('[anon:') || name.startsWith('[anon_shmem:')) return 'named';
  if (name.startsWith('[')) return 'special';
  return 'file';
}

/** `start-end perms offset dev inode   name` (the name may contain spaces). */
export function parseMaps(text: string): Vma[] {
  const out: Vma[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+) ?\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = m[7];
    out.push({
      line,
      startHex: m[1],
      endHex: m[2],
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3],
      offset: m[4],
      dev: m[5],
      inode: m[6],
      name,
      kind: kindOf(name),
    });
  }
  return out;
}

export function formatSize(bytes: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = Number(bytes);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

/** A piece of the strip: a VMA (index into the list) or the hole before one. */
export interface Segment {
  y0: number;
  y1: number;
  start: bigint;
  end: bigint;
  /** -1 for a gap. */
  vma: number;
}

const MIN_VMA_PX = 2;
const MAX_GAP_PX = 22;

/** Gap height: 0 for adjacent VMAs, then log2 of the hole in pages, capped. */
function gapPx(bytes: bigint): number {
  if (bytes <= 0n) return 0;
  const pages = Number(bytes / PAGE);
  return Math.min(MAX_GAP_PX, 1 + Math.log2(pages + 1) * 0.7);
}

/** Segments of `vmas` on a strip `height` pixels tall (top = lowest address, as maps lists). */
export function layoutStrip(vmas: readonly Vma[], height: number): Segment[] {
  const segs: Segment[] = [];
  if (vmas.length === 0) return segs;
  let gapsTotal = 0;
  let mapped = 0;
  for (let i = 0; i < vmas.length; i++) {
    if (i > 0) gapsTotal += gapPx(vmas[i].start - vmas[i - 1].end);
    mapped += Number(vmas[i].end - vmas[i].start);
  }
  // Gaps get at most 40% of the strip (a scattered JIT heap has hundreds of huge holes).
  const gapScale = gapsTotal > height * 0.4 ? (height * 0.4) / gapsTotal : 1;
  gapsTotal *= gapScale;
  const budget = Math.max(0, height - gapsTotal - vmas.length * MIN_VMA_PX);
  const perByte = mapped > 0 ? budget / mapped : 0;
  let y = 0;
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i];
    if (i > 0) {
      const g = gapPx(v.start - vmas[i - 1].end) * gapScale;
      if (g > 0) segs.push({ y0: y, y1: y + g, start: vmas[i - 1].end, end: v.start, vma: -1 });
      y += g;
    }
    const h = MIN_VMA_PX + Number(v.end - v.start) * perByte;
    segs.push({ y0: y, y1: y + h, start: v.start, end: v.end, vma: i });
    y += h;
  }
  return segs;
}

/** The page-aligned address under strip position `y` (linear in a VMA, logarithmic in a gap). */
export function addressAt(segs: readonly Segment[], y: number): bigint | null {
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid];
    if (y < s.y0) hi = mid - 1;
    else if (y >= s.y1) lo = mid + 1;
    else {
      const frac = (y - s.y0) / Math.max(1e-9, s.y1 - s.y0);
      const pages = Number((s.end - s.start) / PAGE);
      const k = s.vma >= 0 ? frac * pages : 2 ** (frac * Math.log2(pages + 1)) - 1;
      const page = BigInt(Math.min(pages - 1, Math.max(0, Math.floor(k))));
      return s.start + page * PAGE;
    }
  }
  return null;
}
