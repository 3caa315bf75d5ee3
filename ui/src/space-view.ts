/**
 * One process's address space: the strip (maps-model.ts layout, one `.vma` element per VMA with
 * its `data-start`/`data-end` as maps prints them) and its maps lines beside it. VMAs whose line
 * is new since the last render flash; hovering either side highlights both and reports the
 * address under the pointer; clicking selects the VMA the action buttons work on. A traced read
 * ("read maps now") marks where each chunk began.
 */
import { h } from './dom.js';
import { addressAt, layoutStrip, type Segment, type Vma } from './maps-model.js';

export interface ChunkMark {
  /** First address the chunk covered (its first line's start). */
  start: bigint;
  label: string;
  /** Retries + fallbacks + hazards in that chunk's window (it is drawn hot when > 0). */
  trouble: number;
}

export class SpaceView {
  vmas: Vma[] = [];
  private segs: Segment[] = [];
  private bars: HTMLElement[] = [];
  private lines: HTMLElement[] = [];
  private seen = new Set<string>();
  private hot = -1;
  /** The selected VMA by start address (maps hex), kept across re-renders. */
  selected: string | null = null;
  chunks: ChunkMark[] = [];
  /** Pointer over the strip at `addr` (null: left it), the VMA there or -1. */
  onPoint: (addr: bigint | null, vma: number) => void = () => {};
  onSelect: (vma: Vma) => void = () => {};

  constructor(
    private readonly strip: HTMLElement,
    private readonly maps: HTMLElement,
  ) {
    strip.addEventListener('mousemove', (e) => {
      const y = e.clientY - strip.getBoundingClientRect().top;
      const addr = addressAt(this.segs, y);
      const i = addr === null ? -1 : this.vmas.findIndex((v) => v.start <= addr && addr < v.end);
      this.highlight(i);
      this.onPoint(addr, i);
    });
    strip.addEventListener('mouseleave', () => {
      this.highlight(-1);
      this.onPoint(null, -1);
    });
    for (const el of [strip, maps]) {
      el.addEventListener('click', (e) => {
        const t = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
        if (t) this.select(Number(t.dataset.i));
      });
    }
    maps.addEventListener('mouseover', (e) => {
      const t = (e.target as HTMLElement).closest<HTMLElement>('[data-i]');
      if (!t) return;
      const i = Number(t.dataset.i);
      this.highlight(i);
      this.onPoint(this.vmas[i].start, i);
    });
  }

  /** Draws `vmas`; lines not shown before flash (not on the first render of a process). */
  render(vmas: Vma[], fresh: boolean): void {
    const flash = !fresh;
    this.vmas = vmas;
    const height = Math.max(320, this.strip.clientHeight);
    this.segs = layoutStrip(vmas, height);
    const bars: HTMLElement[] = [];
    const nodes: Node[] = [];
    for (const s of this.segs) {
      if (s.vma < 0) {
        nodes.push(h('div', { class: 'gap', style: `top:${s.y0}px;height:${s.y1 - s.y0}px` }));
        continue;
      }
      const v = vmas[s.vma];
      const isNew = flash && !this.seen.has(v.line);
      const bar = h('div', {
        class: `vma k-${v.kind}${isNew ? ' flash' : ''}${v.startHex === this.selected ? ' sel' : ''}`,
        style: `top:${s.y0}px;height:${Math.max(1, s.y1 - s.y0 - 0.5)}px`,
        'data-i': s.vma,
        'data-start': v.startHex,
        'data-end': v.endHex,
        'data-kind': v.kind,
      });
      if (v.perms[2] === 'x') bar.classList.add('exec');
      bars[s.vma] = bar;
      nodes.push(bar);
    }
    for (const c of this.chunks) {
      const s = this.segs.find((g) => g.vma >= 0 && vmas[g.vma].start >= c.start);
      if (!s) continue;
      nodes.push(
        h(
          'div',
          { class: `chunk-mark${c.trouble > 0 ? ' hot' : ''}`, style: `top:${s.y0}px` },
          h('span', {}, c.label),
        ),
      );
    }
    this.strip.replaceChildren(...nodes);
    this.bars = bars;

    const chunkOf = (v: Vma) => {
      let k = -1;
      for (let j = 0; j < this.chunks.length && this.chunks[j].start <= v.start; j++) k = j;
      return k;
    };
    this.lines = vmas.map((v, i) => {
      const isNew = flash && !this.seen.has(v.line);
      const k = chunkOf(v);
      return h(
        'div',
        {
          class: `line k-${v.kind}${isNew ? ' flash' : ''}${v.startHex === this.selected ? ' sel' : ''}${
            k >= 0 ? ` c${k % 2}` : ''
          }`,
          'data-i': i,
        },
        h('i', {}),
        v.line,
      );
    });
    this.maps.replaceChildren(...this.lines);
    this.seen = new Set(vmas.map((v) => v.line));
    this.hot = -1;
  }

  private highlight(i: number): void {
    if (i === this.hot) return;
    this.bars[this.hot]?.classList.remove('hot');
    this.lines[this.hot]?.classList.remove('hot');
    this.hot = i;
    if (i < 0) return;
    this.bars[i]?.classList.add('hot');
    const line = this.lines[i];
    line?.classList.add('hot');
    if (!line) return;
    const top = line.offsetTop; // .maps is position: relative
    const view = this.maps.scrollTop;
    if (top < view || top + line.offsetHeight > view + this.maps.clientHeight) {
      this.maps.scrollTop = top - this.maps.clientHeight / 2;
    }
  }

  select(i: number): void {
    const v = this.vmas[i];
    if (!v) return;
    this.selected = v.startHex;
    for (const el of this.strip.querySelectorAll('.sel')) el.classList.remove('sel');
    for (const el of this.maps.querySelectorAll('.sel')) el.classList.remove('sel');
    this.bars[i]?.classList.add('sel');
    this.lines[i]?.classList.add('sel');
    this.onSelect(v);
  }

  /** Selects the VMA containing `addr` once it is drawn (after an mmap). */
  selectAddress(addr: bigint): void {
    const i = this.vmas.findIndex((v) => v.start <= addr && addr < v.end);
    if (i >= 0) this.select(i);
  }

  selectedVma(): Vma | null {
    return this.vmas.find((v) => v.startHex === this.selected) ?? null;
  }
}
