/**
 * Reading a Grafana dashboard JSON as a list of PromQL expressions, and the small amount of PromQL
 * lexing the deploy tests need: which metrics and which labels an expression uses, and how Grafana
 * would expand its template variables before sending it to Prometheus.
 */

/** One query of a dashboard: where it is, and its PromQL. */
export interface DashboardQuery {
  /** `panel title / refId`, or `variable NAME`, for assertion messages. */
  where: string;
  expr: string;
}

interface PanelJson {
  title?: string;
  panels?: PanelJson[];
  targets?: { expr?: string; refId?: string }[];
}

interface DashboardJson {
  panels?: PanelJson[];
  templating?: { list?: { name?: string; type?: string; query?: unknown }[] };
}

function collectPanels(panels: readonly PanelJson[], out: DashboardQuery[]): void {
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      if (typeof target.expr === 'string' && target.expr !== '') {
        out.push({ where: `${panel.title ?? '?'} / ${target.refId ?? '?'}`, expr: target.expr });
      }
    }
    // Collapsed rows keep their panels inside the row.
    collectPanels(panel.panels ?? [], out);
  }
}

/** Every panel target's PromQL expression, in dashboard order. */
export function panelQueries(dashboard: unknown): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  collectPanels((dashboard as DashboardJson).panels ?? [], out);
  return out;
}

/** Query variables as `{name, query}` (e.g. `label_values(procfs_reads_total, strategy)`). */
export function queryVariables(dashboard: unknown): { name: string; query: string }[] {
  const list = (dashboard as DashboardJson).templating?.list ?? [];
  return list
    .filter((v) => v.type === 'query' && typeof v.query === 'string')
    .map((v) => ({ name: v.name ?? '?', query: v.query as string }));
}

/**
 * Expand Grafana variables the way Grafana does before querying: `$name` and `${name}` are
 * replaced from `values`; an unknown variable is an error (it would reach Prometheus verbatim).
 */
export function expandVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string, bare: string) => {
    const name = braced ?? bare;
    const value = values[name];
    if (value === undefined) throw new Error(`no value for Grafana variable ${match} in ${expr}`);
    return value;
  });
}

const NOT_METRICS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/** The expression with string literals emptied, so their contents are never taken for names. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
}

/** Metric names (series selectors) an expression reads, e.g. `procfs_reads_total`. */
export function metricNames(expr: string): string[] {
  const stripped = withoutStrings(expr)
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const word = m[1]!;
    if (m[2] !== undefined || NOT_METRICS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** Labels an expression groups by (`by (…)`) or matches on (`{label=…}`). */
export function labelNames(expr: string): string[] {
  const bare = withoutStrings(expr);
  const labels = new Set<string>();
  for (const m of bare.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const label of m[1]!.split(',')) if (label.trim() !== '') labels.add(label.trim());
  }
  for (const m of bare.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of m[1]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      labels.add(matcher[1]!);
    }
  }
  return [...labels];
}

/** Range selectors' windows, e.g. `$__rate_interval` for `rate(x[$__rate_interval])`. */
export function rangeWindows(expr: string): string[] {
  return [...withoutStrings(expr).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]!.trim());
}
