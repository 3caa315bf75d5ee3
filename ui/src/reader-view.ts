/**
 * "read maps now": one traced read of the process on view under a chosen strategy and chunk
 * size (`/ws` `{"op":"maps","chunks":true}`), shown as one row per chunk — the addresses it
 * covered, its lines and bytes, and what its lock window took: speculation attempts and
 * retries, fallbacks to the mmap read lock by reason, hazards, mmap read locks taken.
 */
import type { Api } from './api.js';
import { button, h, select } from './dom.js';
import { STRATEGIES } from './prom.js';
import type { ChunkMark } from './space-view.js';

export interface TracedChunk {
  bytes: number;
  lines: number;
  attempts: number;
  retries: number;
  fallback_contention: number;
  fallback_fancy_vma: number;
  fallback_detached: number;
  fallback_retry_limit: number;
  hazard_use_after_free: number;
  hazard_null_deref: number;
  mmap_locks: number;
  mmap_lock_waits: number;
}

const FALLBACKS = [
  ['fallback_contention', 'contention'],
  ['fallback_fancy_vma', 'fancy_vma'],
  ['fallback_detached', 'detached'],
  ['fallback_retry_limit', 'retry_limit'],
] as const;

function firstAddress(text: string, from: number): bigint {
  const dash = text.indexOf('-', from);
  return BigInt(`0x${text.slice(from, dash)}`);
}

export class ReaderView {
  strategy = 'per_vma';
  private readonly chunkSize = select(['4096', '1024', '512', '65536', '0'], '4096', {
    title: 'bytes per chunk (0: the whole file in one lock window)',
  });
  private readonly strategySelect = select(STRATEGIES, 'per_vma', { id: 'read-strategy' });
  private readonly out = h('div', { id: 'chunks' });
  /** Chunk starts of the last read, for the strip. */
  onChunks: (marks: ChunkMark[]) => void = () => {};

  constructor(
    root: HTMLElement,
    private readonly api: Api,
    private readonly pid: () => number | null,
  ) {
    this.strategySelect.addEventListener('change', () => {
      this.strategy = this.strategySelect.value;
    });
    root.replaceChildren(
      h(
        'div',
        { class: 'row' },
        this.strategySelect,
        h('label', {}, 'chunk ', this.chunkSize),
        button('read maps now', () => this.read(), { id: 'read-now', class: 'primary' }),
      ),
      this.out,
    );
  }

  setStrategy(s: string): void {
    this.strategy = s;
    this.strategySelect.value = s;
  }

  async read(): Promise<void> {
    const pid = this.pid();
    if (pid === null) return;
    const strategy = this.strategy;
    const t0 = performance.now();
    let r: { text: string; chunks: TracedChunk[] };
    try {
      r = await this.api.request('maps', {
        pid,
        strategy,
        chunk: Number(this.chunkSize.value),
        chunks: true,
      });
    } catch (e) {
      this.out.replaceChildren(h('div', { class: 'err' }, String((e as Error).message)));
      return;
    }
    const ms = performance.now() - t0;
    const enc = new TextEncoder();
    const bytes = enc.encode(r.text);
    const dec = new TextDecoder();
    let at = 0;
    const marks: ChunkMark[] = [];
    const rows = r.chunks.map((c, i) => {
      const text = dec.decode(bytes.subarray(at, at + c.bytes));
      at += c.bytes;
      const start = firstAddress(text, 0);
      const lastLine = text.lastIndexOf('\n', text.length - 2) + 1;
      const lastEnd = text.slice(text.indexOf('-', lastLine) + 1, text.indexOf(' ', lastLine));
      const fb = FALLBACKS.map(([k]) => c[k]).reduce((a, b) => a + b, 0);
      const hz = c.hazard_use_after_free + c.hazard_null_deref;
      const trouble = c.retries + fb + hz;
      marks.push({ start, label: `c${i}`, trouble });
      const fbText = FALLBACKS.filter(([k]) => c[k] > 0)
        .map(([k, name]) => `${name} ${c[k]}`)
        .join(' ');
      return h(
        'tr',
        { class: trouble > 0 ? 'hot' : '', 'data-chunk': i },
        h('td', {}, `c${i}`),
        h('td', { class: 'addr', title: `${start.toString(16)}-${lastEnd}` }, start.toString(16)),
        h('td', {}, String(c.lines)),
        h('td', {}, String(c.bytes)),
        h('td', { 'data-retries': c.retries }, String(c.retries)),
        h('td', { 'data-fallbacks': fb }, fb > 0 ? fbText : '0'),
        h('td', {}, String(hz)),
        h('td', {}, `${c.mmap_locks}${c.mmap_lock_waits ? ` (${c.mmap_lock_waits} waited)` : ''}`),
      );
    });
    const total = (k: keyof TracedChunk) => r.chunks.reduce((a, c) => a + c[k], 0);
    const summary = h(
      'div',
      { class: 'summary', id: 'read-summary', 'data-strategy': strategy },
      `${strategy}: ${r.chunks.length} chunks, ${bytes.length} bytes in ${ms.toFixed(1)} ms · `,
      `${total('attempts')} attempts, ${total('retries')} retries`,
    );
    this.out.replaceChildren(
      summary,
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['', 'from', 'lines', 'bytes', 'retries', 'fallbacks', 'hazards', 'mmap locks'].map(
              (t) => h('th', {}, t),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
    );
    this.onChunks(marks);
  }
}
