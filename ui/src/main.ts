/**
 * The page (API.md "Additions → Page"): the process list, one process's address space updated
 * live from `/ws`, the strategy switch and a traced "read maps now", and the strategies'
 * counters. Everything goes through the public API; nothing runs on the server for the page
 * except what the page itself asks.
 */
import { ActionsView } from './actions-view.js';
import { Api, type MutationEvent } from './api.js';
import { CountersView } from './counters-view.js';
import { byId, h } from './dom.js';
import { formatSize, KINDS, parseMaps } from './maps-model.js';
import { ProcessList } from './process-list.js';
import { STRATEGIES } from './prom.js';
import { ReaderView } from './reader-view.js';
import { SpaceView } from './space-view.js';

interface ProcessDetail {
  pid: number;
  comm: string;
  vmas: number;
  activity: { profile?: string; rate_per_s?: number | null; calls: number } | null;
}

interface QueryAnswer {
  vma_start: string;
  vma_end: string;
  vma_flags_names: string[];
  vma_offset: string;
  inode: number;
  dev_major: number;
  dev_minor: number;
  vma_name: string | null;
}

/** The token, asked once per tab when the service says it needs one. */
async function tokenIfRequired(): Promise<string | null> {
  if (document.documentElement.dataset.token !== 'required') return null;
  const saved = sessionStorage.getItem('procfs-sim-token');
  if (saved) return saved;
  const dialog = byId<HTMLDialogElement>('token-dialog');
  const input = byId<HTMLInputElement>('token-input');
  dialog.showModal();
  await new Promise<void>((resolve) => dialog.addEventListener('close', () => resolve()));
  sessionStorage.setItem('procfs-sim-token', input.value);
  return input.value;
}

async function main(): Promise<void> {
  const api = new Api(await tokenIfRequired());
  const conn = byId('conn');
  api.onConnection = (up) => {
    conn.textContent = up ? '● live' : '○ disconnected';
    conn.className = up ? 'conn up' : 'conn down';
  };
  await api.connect();

  let pid: number | null = null;
  let detail: ProcessDetail | null = null;
  let detailAt = 0;
  const statusLine = byId('status');
  const status = (text: string, error = false) => {
    statusLine.textContent = text;
    statusLine.className = error ? 'status err' : 'status';
  };
  /** Runs `p` without waiting; a failure (e.g. a 503 while the service sheds load) goes to the status line. */
  const background = (what: string, p: Promise<unknown>) => {
    p.catch((e: Error) => status(`${what}: ${e.message}`, true));
  };

  const space = new SpaceView(byId('strip'), byId('maps'));
  const hover = byId('hover');
  const reader = new ReaderView(byId('reader'), api, () => pid);
  reader.onChunks = (marks) => {
    space.chunks = marks;
    space.render(space.vmas, false);
  };
  const counters = new CountersView(byId('counters'), () => api.http<string>('GET', '/metrics'));

  // Live maps: at most one read in flight; events during it ask for one more afterwards.
  let reading = false;
  let again = false;
  let pendingSelect: bigint | null = null;
  const refresh = async (fresh = false) => {
    if (pid === null) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    const forPid = pid;
    try {
      const text = await api.request<string>('maps', { pid: forPid });
      if (forPid !== pid) return;
      space.render(parseMaps(text), fresh);
      // The title's busy/idle: re-read at most every 2 s while the process changes.
      if (performance.now() - detailAt > 2000) background('process', loadDetail());
      byId('strip').dataset.pid = String(forPid);
      if (pendingSelect !== null) {
        space.selectAddress(pendingSelect);
        pendingSelect = null;
      }
      drawTitle();
    } catch (e) {
      status(`maps: ${(e as Error).message}`, true);
    } finally {
      reading = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };
  let events = 0;
  api.onEvent = (_e: MutationEvent) => {
    events++;
    void refresh();
  };

  const drawTitle = () => {
    if (!detail) return;
    const a = detail.activity;
    const mapped = space.vmas.reduce((s, v) => s + (v.end - v.start), 0n);
    byId('title').replaceChildren(
      h('b', {}, `pid ${detail.pid}`),
      ` ${detail.comm} · ${space.vmas.length} VMAs · ${formatSize(mapped)} mapped · `,
      a
        ? h(
            'span',
            { class: 'busy' },
            `busy: ${a.profile ?? 'loop'}${a.rate_per_s ? ` @${a.rate_per_s}/s` : ''}`,
          )
        : h('span', { class: 'muted' }, 'idle'),
      h('span', { class: 'muted' }, ` · ${events} mutation events seen`),
    );
  };

  const loadDetail = async () => {
    if (pid === null) return;
    detailAt = performance.now();
    detail = await api.http<ProcessDetail>('GET', `/processes/${pid}`);
    drawTitle();
  };

  const show = async (p: number) => {
    pid = p;
    events = 0;
    space.selected = null;
    space.chunks = [];
    byId('chunks').replaceChildren();
    api.watch(p);
    list.markSelected(p);
    await loadDetail();
    await refresh(true);
  };

  const list = new ProcessList(
    byId('proc-rows'),
    byId<HTMLInputElement>('search'),
    byId('proc-count'),
    api,
  );
  list.onPick = (p) => background(`pid ${p}`, show(p));

  // Hover: the maps line and PROCMAP_QUERY's answer for the address under the pointer.
  let asking = false;
  let nextAsk: bigint | null = null;
  const ask = async (addr: bigint) => {
    if (pid === null) return;
    if (asking) {
      nextAsk = addr;
      return;
    }
    asking = true;
    const a = `0x${addr.toString(16)}`;
    try {
      const q = await api.request<QueryAnswer>('procmap_query', {
        pid,
        addr: a,
        flags: 'COVERING_OR_NEXT_VMA',
        name: true,
      });
      hover.replaceChildren(
        h('div', {}, h('span', { class: 'muted' }, 'address '), h('b', {}, a)),
        h('div', { class: 'muted' }, 'PROCMAP_QUERY(COVERING_OR_NEXT_VMA) →'),
        h(
          'pre',
          {},
          [
            `vma_start  ${q.vma_start}`,
            `vma_end    ${q.vma_end}`,
            `vma_flags  ${q.vma_flags_names.join('|') || '0'}`,
            `vma_offset ${q.vma_offset}`,
            `dev ${q.dev_major}:${q.dev_minor} inode ${q.inode}`,
            `vma_name   ${q.vma_name ?? '(null)'}`,
          ].join('\n'),
        ),
      );
    } catch (e) {
      hover.replaceChildren(h('div', {}, `address ${a}: ${(e as Error).message}`));
    } finally {
      asking = false;
      const n = nextAsk;
      nextAsk = null;
      if (n !== null) void ask(n);
    }
  };
  space.onPoint = (addr, i) => {
    if (addr === null) return;
    const v = space.vmas[i];
    const line = v
      ? h(
          'div',
          { class: `mapsline k-${v.kind}` },
          v.line,
          h('span', { class: 'muted' }, `  ${formatSize(v.end - v.start)}`),
        )
      : h('div', { class: 'muted' }, 'unmapped');
    void ask(addr).then(() => hover.prepend(line));
  };
  space.onSelect = (v) => status(`selected ${v.startHex}-${v.endHex} ${v.perms} ${v.name}`);

  new ActionsView(byId('actions'), api, {
    pid: () => pid,
    selected: () => space.selectedVma(),
    status,
    mapped: (addr) => {
      pendingSelect = addr;
    },
    activityChanged: () => {
      background('process', loadDetail());
      background('processes', list.load());
    },
  });

  // The strategy switch: the service-wide strategy (PUT /config/strategy), also the reader's.
  const nav = byId('strategies');
  const drawStrategies = (current: string) => {
    counters.current = current;
    counters.draw();
    reader.setStrategy(current);
    nav.replaceChildren(
      ...STRATEGIES.map((s) => {
        const b = h(
          'button',
          { type: 'button', class: s === current ? 'on' : '', 'data-strategy': s },
          s,
        );
        b.addEventListener('click', async () => {
          try {
            await api.http('PUT', '/config/strategy', { strategy: s });
            drawStrategies(s);
            status(`strategy ${s}: readers of every process now use it`);
          } catch (e) {
            status(`strategy: ${(e as Error).message}`, true);
          }
        });
        return b;
      }),
    );
  };
  const config = await api.http<{ strategy: string }>('GET', '/config');
  drawStrategies(config.strategy);

  byId('legend').replaceChildren(
    ...KINDS.map((k) => h('span', { class: `sw k-${k}` }, k)),
    h('span', { class: 'muted' }, ' VMAs to scale (≥2 px), gaps log₂-scaled · click to select'),
  );

  counters.start();
  await list.load();
  const first = list.firstBusy() ?? list.firstPid();
  if (first !== null) await show(first);
}

main().catch((e) => {
  byId('status').textContent = `page failed to start: ${(e as Error).message}`;
});
