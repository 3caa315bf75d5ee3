/**
 * The process list: pid, comm, VMA count and whether the process is busy (has an activity),
 * filtered by the search box (pid or comm). Loaded when the page opens and when asked (the
 * refresh link, or after the page starts/stops an activity); never polled.
 */
import type { Api } from './api.js';
import { h } from './dom.js';

interface Row {
  pid: number;
  comm: string;
  vmas: number;
  busy: string | null;
}

/** How many processes the list shows (the rest are reachable by search on pid/comm). */
const MAX_ROWS = 1000;

export class ProcessList {
  private rows: Row[] = [];
  private total = 0;
  private selected: number | null = null;
  onPick: (pid: number) => void = () => {};

  constructor(
    private readonly body: HTMLElement,
    private readonly search: HTMLInputElement,
    private readonly count: HTMLElement,
    private readonly api: Api,
  ) {
    search.addEventListener('input', () => this.draw());
    body.addEventListener('click', (e) => {
      const tr = (e.target as HTMLElement).closest<HTMLElement>('tr[data-pid]');
      if (tr) this.onPick(Number(tr.dataset.pid));
    });
  }

  async load(): Promise<void> {
    const list = await this.api.http<{
      total: number;
      processes: { pid: number; comm: string; vmas: number }[];
    }>('GET', `/processes?limit=${MAX_ROWS}`);
    this.total = list.total;
    // Busy or not: one `process` request each over the WebSocket (pipelined).
    const details = await Promise.all(
      list.processes.map((p) =>
        this.api
          .request<{ activity: { profile?: string } | null }>('process', { pid: p.pid })
          .catch(() => ({ activity: null })),
      ),
    );
    this.rows = list.processes.map((p, i) => {
      const a = details[i].activity;
      return { ...p, busy: a ? (a.profile ?? 'loop') : null };
    });
    this.draw();
  }

  firstBusy(): number | null {
    return this.rows.find((r) => r.busy !== null)?.pid ?? null;
  }

  firstPid(): number | null {
    return this.rows[0]?.pid ?? null;
  }

  markSelected(pid: number): void {
    this.selected = pid;
    for (const tr of this.body.querySelectorAll<HTMLElement>('tr[data-pid]')) {
      tr.classList.toggle('sel', Number(tr.dataset.pid) === pid);
    }
  }

  private draw(): void {
    const q = this.search.value.trim().toLowerCase();
    const shown = this.rows.filter(
      (r) => q === '' || String(r.pid).startsWith(q) || r.comm.toLowerCase().includes(q),
    );
    this.body.replaceChildren(
      ...shown.map((r) =>
        h(
          'tr',
          {
            'data-pid': r.pid,
            'data-busy': r.busy !== null,
            class: r.pid === this.selected ? 'sel' : '',
          },
          h('td', {}, String(r.pid)),
          h('td', {}, r.comm),
          h('td', { class: 'num' }, String(r.vmas)),
          h('td', {}, r.busy ? h('span', { class: 'busy', title: r.busy }, `● ${r.busy}`) : ''),
        ),
      ),
    );
    const more =
      this.total > this.rows.length ? ` (first ${this.rows.length} of ${this.total})` : '';
    this.count.textContent = `${shown.length} shown${more}`;
  }
}
