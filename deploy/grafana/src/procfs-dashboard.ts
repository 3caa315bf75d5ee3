/**
 * The procfs-sim Grafana dashboard, kept as code (@grafana/grafana-foundation-sdk).
 *
 * Every metric and label used here is API (see the service's API contract): panels are built on
 * exactly those names so the dashboard keeps working when the service changes internally.
 * `npm run dashboards` writes the JSON under deploy/grafana/dashboards/ and the Kubernetes
 * ConfigMap; test/deploy/ checks that the committed files equal what this module generates and
 * evaluates every expression against a real Prometheus scraping the real service.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  type Dashboard,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as HeatmapPanel } from '@grafana/grafana-foundation-sdk/heatmap';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { legend, quantile, rateRatio, STRATEGY_MATCHER, sumRate } from './promql.js';

export const DASHBOARD_UID = 'procfs-sim';
export const DASHBOARD_TITLE = 'procfs-sim: locking strategies';

/** Panels query through the `datasource` variable so the dashboard imports into any Grafana. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not JavaScript's.
const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };
const BY_STRATEGY = [STRATEGY_MATCHER];

interface Target {
  expr: string;
  legend: string;
}

function target(expr: string, legendFormat: string, refId: string): DataqueryBuilder {
  return new DataqueryBuilder()
    .datasource(DATASOURCE)
    .expr(expr)
    .legendFormat(legendFormat)
    .refId(refId)
    .range();
}

/** A time series panel with a table legend (so series can be compared by mean and max). */
function timeseries(
  id: number,
  title: string,
  description: string,
  unit: string,
  targets: readonly Target[],
): TimeseriesPanel {
  const panel = new TimeseriesPanel()
    .id(id)
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .height(8)
    .span(12)
    .lineWidth(1)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['mean', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  targets.forEach((t, i) => {
    panel.withTarget(target(t.expr, t.legend, String.fromCharCode(65 + i)));
  });
  return panel;
}

/** p50 and p99 of one histogram by `labels`, as two targets of one panel. */
function p50p99(histogram: string, labels: readonly string[], matchers: readonly string[]) {
  return [0.5, 0.99].map((q) => ({
    expr: quantile(q, histogram, labels, matchers),
    legend: legend(labels, `p${Math.round(q * 100)}`),
  }));
}

function speculationRow(dash: DashboardBuilder): void {
  const labels = ['strategy', 'op'];
  dash.withRow(new RowBuilder('Speculation, fallbacks and hazards').id(100));
  dash.withPanel(
    timeseries(
      1,
      'Speculation retries/s by strategy and op',
      'Speculative reads (snapshot, lockless, lockless_nofallback) that saw the mm sequence ' +
        'count change and had to retry. Rises with writer activity on the same process.',
      units.OpsPerSecond,
      [
        {
          expr: sumRate('procfs_speculation_retries_total', labels, BY_STRATEGY),
          legend: legend(labels),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(
      2,
      'Retry ratio (retries / attempts) by strategy and op',
      'Fraction of speculation attempts that had to be retried.',
      units.PercentUnit,
      [
        {
          expr: rateRatio(
            'procfs_speculation_retries_total',
            'procfs_speculation_attempts_total',
            labels,
            BY_STRATEGY,
          ),
          legend: legend(labels),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(
      3,
      'Fallbacks/s by reason',
      'Reads that fell back to the mmap read lock: contention (per_vma), fancy_vma (lockless ' +
        'with named VMAs), detached VMAs, or the retry limit of a speculative strategy.',
      units.OpsPerSecond,
      [
        {
          expr: sumRate('procfs_fallbacks_total', ['reason', 'strategy', 'op'], BY_STRATEGY),
          legend: legend(['reason', 'strategy', 'op']),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(
      4,
      'Hazards/s by kind',
      'Unsafe reads detected by lockless_nofallback: name storage read after it was freed ' +
        '(use_after_free) or while it was being cleared (null_deref). Any value above zero is ' +
        'the race the fallback exists to prevent.',
      units.OpsPerSecond,
      [
        {
          expr: sumRate('procfs_hazards_total', ['kind', 'strategy'], BY_STRATEGY),
          legend: legend(['kind', 'strategy']),
        },
      ],
    ),
  );
}

function locksRow(dash: DashboardBuilder): void {
  const labels = ['lock', 'mode'];
  dash.withRow(new RowBuilder('Locks').id(200));
  dash.withPanel(
    timeseries(
      5,
      'Lock hold time p50/p99 by lock and mode',
      'How long mmap_lock and per-VMA locks are held, for the selected strategies.',
      units.Seconds,
      p50p99('procfs_lock_hold_seconds', labels, BY_STRATEGY),
    ),
  );
  dash.withPanel(
    timeseries(
      6,
      'Lock wait time p50/p99 by lock and mode',
      'How long acquirers waited for mmap_lock and per-VMA locks, for the selected strategies.',
      units.Seconds,
      p50p99('procfs_lock_wait_seconds', labels, BY_STRATEGY),
    ),
  );
  dash.withPanel(
    new HeatmapPanel()
      .id(7)
      .title('Lock hold time distribution')
      .description('All locks and modes of the selected strategies, bucket by bucket.')
      .datasource(DATASOURCE)
      .height(8)
      .span(24)
      .withTarget(
        target(
          sumRate('procfs_lock_hold_seconds_bucket', ['le'], BY_STRATEGY),
          '{{le}}',
          'A',
        ).format(PromQueryFormat.Heatmap),
      ),
  );
}

function readsRow(dash: DashboardBuilder): void {
  const labels = ['op', 'strategy'];
  dash.withRow(new RowBuilder('Reads').id(300));
  dash.withPanel(
    timeseries(
      8,
      'Read latency p99 by op and strategy',
      'Whole maps reads (all chunks) and PROCMAP_QUERY lookups, measured on the worker CPUs.',
      units.Seconds,
      [
        {
          expr: quantile(0.99, 'procfs_read_duration_seconds', labels, BY_STRATEGY),
          legend: legend(labels, 'p99'),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(9, 'Reads/s by op and strategy', '', units.OpsPerSecond, [
      { expr: sumRate('procfs_reads_total', labels, BY_STRATEGY), legend: legend(labels) },
    ]),
  );
}

function mutationsRow(dash: DashboardBuilder): void {
  dash.withRow(new RowBuilder('Mutations and address spaces').id(400));
  dash.withPanel(
    timeseries(
      10,
      'Mutations/s by op and result',
      'Syscalls from HTTP and from busy activities; result is ok or the errno name.',
      units.OpsPerSecond,
      [
        {
          expr: sumRate('procfs_mutations_total', ['op', 'result']),
          legend: legend(['op', 'result']),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(11, 'Mutation latency p99 by op', '', units.Seconds, [
      {
        expr: quantile(0.99, 'procfs_mutation_duration_seconds', ['op']),
        legend: legend(['op'], 'p99'),
      },
    ]),
  );
  dash.withPanel(
    timeseries(12, 'Processes', 'Simulated processes, summed over replicas.', units.Short, [
      { expr: 'sum(procfs_processes)', legend: 'processes' },
    ]),
  );
  dash.withPanel(
    timeseries(
      13,
      'VMAs',
      'VMAs in all simulated address spaces, summed over replicas.',
      units.Short,
      [{ expr: 'sum(procfs_vmas)', legend: 'vmas' }],
    ),
  );
}

function faultsRow(dash: DashboardBuilder): void {
  const labels = ['path', 'strategy'];
  dash.withRow(new RowBuilder('Page faults: what a reader costs the process it watches').id(450));
  dash.withPanel(
    timeseries(
      18,
      'Fault latency p99 by path and read strategy',
      'Page faults of touched memory (POST /proc/PID/touch, touch ops, busy profiles), lock ' +
        'waits included, by the lock path that handled them (vma_lock: the per-VMA read lock; ' +
        'mmap_lock: the fallback) and the read strategy in force: an mmap_lock maps reader ' +
        'makes faults that need the mmap lock wait, per_vma does not.',
      units.Seconds,
      [
        {
          expr: quantile(0.99, 'procfs_fault_duration_seconds', labels, BY_STRATEGY),
          legend: legend(labels, 'p99'),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(19, 'Faults/s by path and result', '', units.OpsPerSecond, [
      {
        expr: sumRate('procfs_faults_total', ['path', 'result']),
        legend: legend(['path', 'result']),
      },
    ]),
  );
}

function httpRow(dash: DashboardBuilder): void {
  const metric = 'http_request_duration_seconds';
  const errors = ['status_code=~"4..|5.."'];
  dash.withRow(new RowBuilder('HTTP').id(500));
  dash.withPanel(
    timeseries(14, 'HTTP requests/s by route', '', units.RequestsPerSecond, [
      { expr: sumRate(`${metric}_count`, ['route']), legend: legend(['route']) },
    ]),
  );
  dash.withPanel(
    timeseries(
      15,
      'HTTP errors/s by route and status (4xx and 5xx)',
      '4xx are callers\u2019 errors (errno replies such as ESRCH, EINVAL); 5xx are the ' +
        'service\u2019s (503 when under-pressure sheds load).',
      units.RequestsPerSecond,
      [
        {
          expr: sumRate(`${metric}_count`, ['route', 'status_code'], errors),
          legend: legend(['route', 'status_code']),
        },
      ],
    ),
  );
  dash.withPanel(
    timeseries(16, 'HTTP error ratio by route', '', units.PercentUnit, [
      {
        expr: `${sumRate(`${metric}_count`, ['route'], errors)} / ${sumRate(`${metric}_count`, ['route'])}`,
        legend: legend(['route']),
      },
    ]),
  );
  dash.withPanel(
    timeseries(17, 'HTTP latency p99 by route', '', units.Seconds, [
      { expr: quantile(0.99, metric, ['route']), legend: legend(['route'], 'p99') },
    ]),
  );
}

/** The whole dashboard as Grafana's JSON model. */
export function buildProcfsDashboard(): Dashboard {
  const dash = new DashboardBuilder(DASHBOARD_TITLE)
    .uid(DASHBOARD_UID)
    .description(
      'Retries, fallbacks, hazards and lock times of the procfs-sim locking strategies, with ' +
        'the mutation load and HTTP traffic that cause them.',
    )
    .tags(['procfs-sim'])
    .refresh('10s')
    .time({ from: 'now-15m', to: 'now' })
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    )
    .withVariable(
      new QueryVariableBuilder('strategy')
        .label('Strategy')
        .datasource(DATASOURCE)
        .query('label_values(procfs_reads_total, strategy)')
        .definition('label_values(procfs_reads_total, strategy)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .multi(true)
        .includeAll(true)
        .allValue('.*'),
    );
  speculationRow(dash);
  locksRow(dash);
  readsRow(dash);
  mutationsRow(dash);
  faultsRow(dash);
  httpRow(dash);
  return dash.build();
}
