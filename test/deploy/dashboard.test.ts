/**
 * The dashboard as code, checked without Grafana: the committed JSON and ConfigMap equal what
 * deploy/grafana/src generates, every metric and label is one of the API contract's, rates and
 * quantiles follow the house rules, the panels the issue asks for exist, and every expression
 * parses as PromQL (promtool, from the Debian prometheus package that .ci/run installs).
 * (test/deploy/prometheus-dashboard.test.ts then proves they return data from the real service.)
 *
 * Reproduce: npx tsx --test test/deploy/dashboard.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stringify as stringifyYaml } from 'yaml';
import {
  DASHBOARD_CONFIGMAP_KEY,
  DASHBOARD_CONFIGMAP_PATH,
  DASHBOARD_JSON_PATH,
  renderDashboardFiles,
} from '../../deploy/grafana/src/dashboard-files.js';
import {
  expandVariables,
  labelNames,
  metricNames,
  panelQueries,
  queryVariables,
  rangeWindows,
} from './support/dashboard-queries.js';
import { readText, readYaml } from './support/deploy-files.js';
import { type ScrapeJob, withLocalTokenFiles } from './support/prometheus.js';
import { repoPath } from './support/repo-root.js';
import { runTool } from './support/run-tool.js';

/**
 * The API contract's metrics (names are API) and the labels each one carries. Kept here, copied
 * from the contract by hand, so a renamed metric in the dashboard fails this test.
 */
const API_METRICS: Readonly<
  Record<string, { type: 'counter' | 'gauge' | 'histogram'; labels: string[] }>
> = {
  procfs_lock_hold_seconds: { type: 'histogram', labels: ['lock', 'mode', 'strategy'] },
  procfs_lock_wait_seconds: { type: 'histogram', labels: ['lock', 'mode', 'strategy'] },
  procfs_reads_total: { type: 'counter', labels: ['op', 'strategy'] },
  procfs_read_duration_seconds: { type: 'histogram', labels: ['op', 'strategy'] },
  procfs_speculation_attempts_total: { type: 'counter', labels: ['op', 'strategy'] },
  procfs_speculation_retries_total: { type: 'counter', labels: ['op', 'strategy'] },
  procfs_fallbacks_total: { type: 'counter', labels: ['op', 'strategy', 'reason'] },
  procfs_hazards_total: { type: 'counter', labels: ['kind', 'strategy'] },
  procfs_mutations_total: { type: 'counter', labels: ['op', 'result'] },
  procfs_mutation_duration_seconds: { type: 'histogram', labels: ['op'] },
  procfs_faults_total: { type: 'counter', labels: ['path', 'result'] },
  procfs_fault_duration_seconds: { type: 'histogram', labels: ['path', 'strategy'] },
  procfs_processes: { type: 'gauge', labels: [] },
  procfs_vmas: { type: 'gauge', labels: [] },
  http_request_duration_seconds: { type: 'histogram', labels: ['method', 'route', 'status_code'] },
};
/** Labels Prometheus adds to every scraped series. */
const TARGET_LABELS = ['job', 'instance'];

/** The API metric a series name belongs to (`x_bucket` of histogram `x`, ...), or undefined. */
function apiMetricOf(series: string): { name: string; labels: string[] } | undefined {
  const direct = API_METRICS[series];
  if (direct !== undefined && direct.type !== 'histogram')
    return { name: series, labels: direct.labels };
  const m = /^(.*)_(bucket|count|sum)$/.exec(series);
  const base = m === null ? undefined : API_METRICS[m[1]!];
  if (m === null || base === undefined || base.type !== 'histogram') return undefined;
  return { name: m[1]!, labels: m[2] === 'bucket' ? [...base.labels, 'le'] : base.labels };
}

const dashboard: unknown = JSON.parse(readText(DASHBOARD_JSON_PATH));
const queries = panelQueries(dashboard);

describe('dashboard as code', () => {
  test('committed dashboard JSON and ConfigMap equal what deploy/grafana/src generates', () => {
    for (const [path, content] of renderDashboardFiles()) {
      assert.ok(existsSync(repoPath(path)), `${path} is missing: run npm run dashboards`);
      assert.equal(readText(path), content, `${path} is stale: run npm run dashboards`);
    }
  });

  test('the k8s ConfigMap carries exactly the dashboard JSON', () => {
    const configMap = readYaml<{ kind: string; data: Record<string, string> }>(
      DASHBOARD_CONFIGMAP_PATH,
    );
    assert.equal(configMap.kind, 'ConfigMap');
    assert.equal(configMap.data[DASHBOARD_CONFIGMAP_KEY], readText(DASHBOARD_JSON_PATH));
  });

  test('every metric and label in the dashboard is one of the API contract', () => {
    assert.ok(queries.length >= 15, `expected the full dashboard, found ${queries.length} queries`);
    for (const { where, expr } of queries) {
      const metrics = metricNames(expr);
      assert.ok(metrics.length > 0, `${where}: no metric found in ${expr}`);
      for (const series of metrics) {
        const metric = apiMetricOf(series);
        assert.ok(metric, `${where}: ${series} is not an API metric (${expr})`);
        for (const label of labelNames(expr)) {
          assert.ok(
            metric.labels.includes(label) || TARGET_LABELS.includes(label),
            `${where}: ${metric.name} has no label ${label} (${expr})`,
          );
        }
      }
    }
  });

  test('the strategy variable lists the strategy label of an API metric, multi and all', () => {
    const variables = queryVariables(dashboard);
    const strategy = variables.find((v) => v.name === 'strategy');
    assert.ok(strategy, 'template variable strategy is missing');
    const m = /^label_values\((\w+),\s*(\w+)\)$/.exec(strategy.query);
    assert.ok(m, `unexpected variable query ${strategy.query}`);
    assert.equal(m[2], 'strategy');
    assert.ok(apiMetricOf(m[1]!)?.labels.includes('strategy'), `${m[1]} has no strategy label`);
    const json = (dashboard as { templating: { list: Record<string, unknown>[] } }).templating.list;
    const model = json.find((v) => v.name === 'strategy')!;
    assert.equal(model.multi, true);
    assert.equal(model.includeAll, true);
  });

  test('rates use $__rate_interval, quantiles sum buckets by le, strategy filters apply', () => {
    for (const { where, expr } of queries) {
      for (const window of rangeWindows(expr)) {
        assert.equal(window, '$__rate_interval', `${where}: hard-coded range [${window}]`);
      }
      if (expr.includes('histogram_quantile')) {
        assert.match(expr, /histogram_quantile\(0?\.\d+, sum by \(le\b/, `${where}: ${expr}`);
      }
      // Every metric with a strategy label honours the dashboard's strategy selection.
      const withStrategy = metricNames(expr).every((s) =>
        apiMetricOf(s)?.labels.includes('strategy'),
      );
      if (withStrategy) assert.ok(expr.includes('strategy=~"$strategy"'), `${where}: ${expr}`);
    }
  });

  test('the panels the issue asks for are all there', () => {
    const all = queries.map((q) => q.expr);
    const has = (re: RegExp, what: string) =>
      assert.ok(
        all.some((e) => re.test(e)),
        `no panel for ${what}`,
      );
    has(/sum by \(strategy, op\) \(rate\(procfs_speculation_retries_total/, 'retry rate');
    has(
      /retries_total.*\) \/ sum by \(strategy, op\) \(rate\(procfs_speculation_attempts_total/,
      'retry ratio',
    );
    has(/by \(reason\b.*procfs_fallbacks_total/, 'fallbacks by reason');
    has(/by \(kind\b.*procfs_hazards_total/, 'hazards by kind');
    for (const h of ['procfs_lock_hold_seconds', 'procfs_lock_wait_seconds']) {
      for (const q of ['0.5', '0.99']) {
        has(
          new RegExp(
            `histogram_quantile\\(${q}, sum by \\(le, lock, mode\\) \\(rate\\(${h}_bucket`,
          ),
          `${h} p${q}`,
        );
      }
    }
    has(
      /histogram_quantile\(0.99, sum by \(le, op, strategy\) \(rate\(procfs_read_duration_seconds_bucket/,
      'read p99',
    );
    has(/sum by \(op\b.*\(rate\(procfs_mutations_total/, 'mutations/s by op');
    has(
      /histogram_quantile\(0.99, sum by \(le, op\) \(rate\(procfs_mutation_duration_seconds_bucket/,
      'mutation p99',
    );
    has(/procfs_processes/, 'processes');
    has(/procfs_vmas/, 'VMAs');
    has(/sum by \(route\) \(rate\(http_request_duration_seconds_count\[/, 'HTTP requests/s');
    has(
      /by \(route\b.*http_request_duration_seconds_count\{status_code=~"4\.\.\|5\.\."\}/,
      'HTTP errors',
    );
  });
});

describe('dashboard layout', () => {
  interface LaidOutPanel {
    id: number;
    type: string;
    title: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource?: { uid?: string };
    targets?: { datasource?: { uid?: string } }[];
  }
  const panels = (dashboard as { panels: LaidOutPanel[] }).panels;

  test('panel ids are unique and every panel fits the 24-column grid without overlapping', () => {
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate panel ids: ${ids}`);
    const cells = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(
        x >= 0 && w > 0 && x + w <= 24 && h > 0,
        `${p.title}: gridPos ${JSON.stringify(p.gridPos)}`,
      );
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const other = cells.get(`${row}:${col}`);
          assert.equal(other, undefined, `${p.title} overlaps ${other}`);
          cells.set(`${row}:${col}`, p.title);
        }
      }
    }
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not JavaScript's.
  const DATASOURCE_VARIABLE = '${datasource}';

  test('every query panel and target uses the datasource variable', () => {
    const withTargets = panels.filter((p) => p.type !== 'row');
    assert.ok(withTargets.length > 0);
    for (const p of withTargets) {
      assert.equal(p.datasource?.uid, DATASOURCE_VARIABLE, p.title);
      for (const t of p.targets ?? [])
        assert.equal(t.datasource?.uid, DATASOURCE_VARIABLE, p.title);
    }
    const variables = (
      dashboard as { templating: { list: { name: string; type: string; query: string }[] } }
    ).templating.list;
    const ds = variables.find((v) => v.name === 'datasource');
    assert.deepEqual([ds?.type, ds?.query], ['datasource', 'prometheus']);
  });
});

describe('promtool (from the Debian prometheus package)', () => {
  const promtool = process.env.PROMTOOL_BIN ?? 'promtool';
  test('deploy/prometheus/prometheus.yml is a valid Prometheus config', async () => {
    // promtool checks that the token file exists: the compose secret's path is pointed at a
    // local one first (nothing else changes).
    const dir = mkdtempSync(join(tmpdir(), 'procfs-sim-promtool-'));
    try {
      const config = readYaml<{ scrape_configs: ScrapeJob[] }>('deploy/prometheus/prometheus.yml');
      await withLocalTokenFiles(config.scrape_configs, dir);
      const file = join(dir, 'prometheus.yml');
      writeFileSync(file, stringifyYaml(config));
      const { code, output } = await runTool(promtool, ['check', 'config', file]);
      assert.equal(code, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every dashboard expression parses as PromQL once Grafana variables are expanded', async () => {
    const values = { datasource: 'prometheus', strategy: '.*', __rate_interval: '1m' };
    // A recording rule per expression: `promtool check rules` parses each one.
    const rules = queries.map((q, i) => ({
      record: `dashboard:query_${i}`,
      expr: expandVariables(q.expr, values),
    }));
    const dir = mkdtempSync(join(tmpdir(), 'procfs-sim-promtool-'));
    try {
      const file = join(dir, 'dashboard-rules.yml');
      writeFileSync(file, stringifyYaml({ groups: [{ name: 'dashboard', rules }] }));
      const { code, output } = await runTool(promtool, ['check', 'rules', file]);
      assert.equal(code, 0, output);
      assert.match(output, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
