/**
 * The strategies panel: one row per strategy, one sparkline per figure (reads, retries,
 * fallbacks stacked by reason, hazards, reader lock hold p99) over the last two minutes. Fed by
 * scraping `/metrics` every 2 s, only while the page is visible: the page costs the service
 * nothing when nobody looks at it.
 */
import { h } from './dom.js';
import {
  FALLBACK_REASONS,
  figures,
  parseScrape,
  type Scrape,
  STRATEGIES,
  type StrategyFigures,
} from './prom.js';

const POINTS = 60;
const SVG = 'http://www.w3.org/2000/svg';
const W = 52;
const H = 20;

const COLUMNS = ['reads/s', 'retries/s', 'fallbacks/s', 'hazards/s', 'hold p99'] as const;
const REASON_CLASS = FALLBACK_REASONS.map((r) => `r-${r}`);

function fmtRate(v: number): string {
  if (v === 0) return '0';
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

function fmtSeconds(s: number | null): string {
  if (s === null) return '–';
  if (!Number.isFinite(s)) return '>max';
  if (s < 1e-6) return `${(s * 1e9).toFixed(0)}ns`;
  if (s < 1e-3) return `${(s * 1e6).toFixed(1)}µs`;
  return `${(s * 1e3).toFixed(1)}ms`;
}

/** Stacked areas of `layers` (each POINTS long), scaled to the stack's max. */
function sparkline(layers: number[][], classes: string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'spark');
  const n = layers[0].length;
  const sums = new Array(n).fill(0);
  let max = 0;
  for (let i = 0; i < n; i++) {
    for (const l of layers) sums[i] += l[i];
    max = Math.max(max, sums[i]);
  }
  const x = (i: number) =>
    n <= 1 ? W : (i / (POINTS - 1)) * W + (POINTS - n) * (W / (POINTS - 1));
  const y = (v: number) => H - 1 - (max > 0 ? (v / max) * (H - 2) : 0);
  const base = new Array(n).fill(0);
  layers.forEach((l, k) => {
    const top = base.map((b, i) => b + l[i]);
    const pts = [
      ...top.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`),
      ...base.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).reverse(),
    ];
    const poly = document.createElementNS(SVG, 'polygon');
    poly.setAttribute('points', pts.join(' '));
    poly.setAttribute('class', classes[k]);
    svg.append(poly);
    for (let i = 0; i < n; i++) base[i] = top[i];
  });
  return svg;
}

export class CountersView {
  private prev: Scrape | null = null;
  private readonly history: StrategyFigures[][] = STRATEGIES.map(() => []);
  private timer: number | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly scrape: () => Promise<string>,
  ) {
    document.addEventListener('visibilitychange', () => this.schedule());
    this.draw();
  }

  /** Scrapes now and every 2 s while the page is visible. */
  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (document.visibilityState !== 'visible') {
      this.prev = null;
      return;
    }
    this.tick().finally(() => {
      if (document.visibilityState === 'visible') {
        this.timer = window.setTimeout(() => this.schedule(), 2000);
      }
    });
  }

  private async tick(): Promise<void> {
    let text: string;
    try {
      text = await this.scrape();
    } catch {
      return;
    }
    const next = parseScrape(text, performance.now());
    if (this.prev) {
      const f = figures(this.prev, next);
      STRATEGIES.forEach((s, i) => {
        const hist = this.history[i];
        hist.push(f[s]);
        if (hist.length > POINTS) hist.shift();
      });
      this.draw();
    }
    this.prev = next;
  }

  /** Highlights the service-wide strategy's row. */
  current = '';

  draw(): void {
    const head = h('tr', {}, h('th', {}, ''), ...COLUMNS.map((c) => h('th', {}, c)));
    const rows = STRATEGIES.map((s, i) => {
      const hist = this.history[i];
      const last = hist.at(-1);
      const series = (pick: (f: StrategyFigures) => number) =>
        hist.length > 0 ? hist.map(pick) : [0];
      const cell = (layers: number[][], classes: string[], value: string) =>
        h('td', {}, sparkline(layers, classes), h('span', { class: 'v' }, value));
      const fb = last ? last.fallbacks.reduce((a, b) => a + b, 0) : 0;
      const fbTitle = last
        ? FALLBACK_REASONS.map((r, k) => `${r} ${fmtRate(last.fallbacks[k])}/s`).join(', ')
        : '';
      const fbCell = cell(
        FALLBACK_REASONS.map((_, k) => series((f) => f.fallbacks[k])),
        REASON_CLASS,
        fmtRate(fb),
      );
      fbCell.title = fbTitle;
      return h(
        'tr',
        { class: s === this.current ? 'current' : '', 'data-strategy': s },
        h('th', {}, s),
        cell([series((f) => f.reads)], ['s-reads'], fmtRate(last?.reads ?? 0)),
        cell([series((f) => f.retries)], ['s-retries'], fmtRate(last?.retries ?? 0)),
        fbCell,
        cell([series((f) => f.hazards)], ['s-hazards'], fmtRate(last?.hazards ?? 0)),
        cell(
          [series((f) => (f.holdP99 === null || !Number.isFinite(f.holdP99) ? 0 : f.holdP99))],
          ['s-hold'],
          fmtSeconds(last?.holdP99 ?? null),
        ),
      );
    });
    const legend = h(
      'div',
      { class: 'reasons' },
      'fallbacks: ',
      ...FALLBACK_REASONS.map((r, k) => h('span', { class: `sw ${REASON_CLASS[k]}` }, r)),
    );
    this.root.replaceChildren(
      h('table', {}, h('thead', {}, head), h('tbody', {}, ...rows)),
      legend,
    );
  }
}
