/**
 * report/chart.svg: one panel per reader; in each, per writer, one bar per strategy for the
 * reader's speed beside the writer (× alone, upper half) and the writer's (× alone, lower half,
 * drawn downwards), with the 0.9 goal lines. The kernel twin is the dark bar.
 */
import type { Row } from './rows.js';

const COLORS: Record<string, string> = {
  mmap_lock: '#d62728',
  per_vma: '#2ca02c',
  snapshot: '#9467bd',
  lockless: '#1f77b4',
  lockless_nofallback: '#ff7f0e',
  kernel: '#333333',
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function renderChart(rows: readonly Row[], title: string): string {
  const readers = [...new Set(rows.map((r) => r.reader))];
  const writers = [...new Set(rows.map((r) => r.writer))].filter((w) => w !== 'none');
  const strategies = Object.keys(COLORS).filter((s) => rows.some((r) => r.strategy === s));
  const bar = 9;
  const groupW = strategies.length * bar + 14;
  const panelW = Math.max(220, writers.length * groupW + 60);
  const half = 90;
  const panelH = 2 * half + 60;
  const cols = Math.min(3, readers.length);
  const width = cols * panelW + 20;
  const height = Math.ceil(readers.length / cols) * panelH + 80;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="34" fill="#555">Bars up: reader speed beside the writer (× alone). Bars down: writer speed beside the reader (× alone). Dashed: 0.9.</text>`,
  ];
  strategies.forEach((s, i) => {
    const x = 10 + i * 130;
    out.push(`<rect x="${x}" y="44" width="10" height="10" fill="${COLORS[s]}"/>`);
    out.push(`<text x="${x + 14}" y="53">${s}</text>`);
  });
  readers.forEach((reader, p) => {
    const ox = 10 + (p % cols) * panelW;
    const oy = 70 + Math.floor(p / cols) * panelH;
    const axis = oy + 20 + half;
    out.push(`<text x="${ox + 30}" y="${oy + 12}" font-weight="bold">${esc(reader)}</text>`);
    out.push(
      `<line x1="${ox + 30}" y1="${axis}" x2="${ox + panelW - 20}" y2="${axis}" stroke="#000"/>`,
    );
    for (const g of [0.9, -0.9]) {
      const y = axis - g * half;
      out.push(
        `<line x1="${ox + 30}" y1="${y}" x2="${ox + panelW - 20}" y2="${y}" stroke="#999" stroke-dasharray="3,3"/>`,
      );
    }
    out.push(
      `<text x="${ox}" y="${axis - half + 4}">1.0×</text><text x="${ox}" y="${axis + half + 4}">1.0×</text>`,
    );
    writers.forEach((w, gi) => {
      const gx = ox + 36 + gi * groupW;
      out.push(`<text x="${gx}" y="${axis + half + 22}">${esc(w)}</text>`);
      strategies.forEach((s, si) => {
        const r = rows.find((x) => x.reader === reader && x.writer === w && x.strategy === s);
        if (!r) return;
        const x = gx + si * bar;
        const up = Math.min(1.2, Math.max(0, r.reader_vs_alone)) * half;
        const down = Math.min(1.2, Math.max(0, r.writer_vs_alone ?? 0)) * half;
        const tip = `${s} beside ${w}: reader ${r.reader_vs_alone.toFixed(2)}×, writer ${(r.writer_vs_alone ?? 0).toFixed(2)}×`;
        out.push(
          `<rect x="${x}" y="${(axis - up).toFixed(1)}" width="${bar - 1}" height="${up.toFixed(1)}" fill="${COLORS[s]}"><title>${esc(tip)}</title></rect>`,
        );
        out.push(
          `<rect x="${x}" y="${axis}" width="${bar - 1}" height="${down.toFixed(1)}" fill="${COLORS[s]}" opacity="0.6"><title>${esc(tip)}</title></rect>`,
        );
      });
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
