/**
 * Small PromQL builders for the procfs-sim dashboard, so every panel spells rates and quantiles
 * the same way: rates over Grafana's `$__rate_interval` (never a hard-coded window, which breaks
 * when the scrape interval changes) and quantiles with `histogram_quantile` over buckets that are
 * summed across instances first (summing quantiles of several replicas would be meaningless).
 */

/** The label matcher that applies the dashboard's `strategy` template variable. */
export const STRATEGY_MATCHER = 'strategy=~"$strategy"';

/** `metric{matchers}` or bare `metric` when there are no matchers. */
export function selector(metric: string, matchers: readonly string[] = []): string {
  return matchers.length === 0 ? metric : `${metric}{${matchers.join(', ')}}`;
}

/** Per-second rate of a counter (or histogram `_count`/`_bucket` series), summed by `labels`. */
export function sumRate(
  metric: string,
  labels: readonly string[],
  matchers: readonly string[] = [],
): string {
  const by = labels.length === 0 ? '' : ` by (${labels.join(', ')})`;
  return `sum${by} (rate(${selector(metric, matchers)}[$__rate_interval]))`;
}

/** `q`-quantile of a histogram, from bucket rates summed by `le` and `labels`. */
export function quantile(
  q: number,
  histogram: string,
  labels: readonly string[],
  matchers: readonly string[] = [],
): string {
  return `histogram_quantile(${q}, ${sumRate(`${histogram}_bucket`, ['le', ...labels], matchers)})`;
}

/** Ratio of two summed rates over the same label set (e.g. retries per attempt). */
export function rateRatio(
  numerator: string,
  denominator: string,
  labels: readonly string[],
  matchers: readonly string[] = [],
): string {
  return `${sumRate(numerator, labels, matchers)} / ${sumRate(denominator, labels, matchers)}`;
}

/** Grafana legend text that prints each label's value, e.g. `{{strategy}} {{op}}`. */
export function legend(labels: readonly string[], prefix = ''): string {
  const parts = labels.map((label) => `{{${label}}}`).join(' ');
  return prefix === '' ? parts : `${prefix} ${parts}`;
}
