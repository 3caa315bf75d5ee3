/**
 * Proof that the Grafana dashboard works, without Grafana: a real Prometheus (the Debian binary
 * that .ci/run installs) scrapes the real procfs-sim server every second while a short, bounded
 * load runs against busy processes under every strategy; then every PromQL expression in the
 * committed dashboard JSON, with Grafana's variables expanded, goes through Prometheus's HTTP API
 * and must return at least one series, and the retry panels must be non-zero for a speculative
 * strategy under the busy writer.
 *
 * Needs the built tree (dist/src/server.js) and `prometheus` on the PATH.
 * Reproduce: npx tsc -p tsconfig.json; node --test dist/test/deploy/prometheus-dashboard.test.js
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DASHBOARD_JSON_PATH } from '../../deploy/grafana/src/dashboard-files.js';
import {
  type DashboardQuery,
  expandVariables,
  metricNames,
  panelQueries,
  queryVariables,
} from './support/dashboard-queries.js';
import { pollUntil } from './support/poll.js';
import {
  PrometheusUnderTest,
  prometheusVersion,
  type Sample,
  testScrapeConfig,
} from './support/prometheus.js';
import { ReadLoad } from './support/read-load.js';
import { repoPath } from './support/repo-root.js';
import { ServiceUnderTest } from './support/service-under-test.js';

/** Strategy names are API. */
const STRATEGIES = ['mmap_lock', 'per_vma', 'snapshot', 'lockless', 'lockless_nofallback'];
/** The speculative strategy whose retry panels must show retries under the busy writer. */
const SPECULATIVE = 'lockless';

/**
 * What Grafana would put in place of its variables. With a 1 s scrape interval Grafana's
 * $__rate_interval is at least 4 s; 10 s keeps several scrapes in every window.
 */
const GRAFANA_VARIABLES = {
  datasource: 'prometheus',
  strategy: '.*',
  __rate_interval: '10s',
  __interval: '1s',
  __range: '1m',
};

/** Deadlines of each phase: generous, since a loaded 2-core machine can take tens of seconds to build the default population; a healthy run takes a few seconds each. */
const SERVER_READY_MS = 60_000;
const PROMETHEUS_READY_MS = 45_000;
const DATA_READY_MS = 60_000;

interface Evaluation {
  query: DashboardQuery;
  expanded: string;
  samples: Sample[];
  error?: string;
}

async function evaluateAll(
  prom: PrometheusUnderTest,
  queries: readonly DashboardQuery[],
): Promise<Evaluation[]> {
  return Promise.all(
    queries.map(async (query) => {
      const expanded = expandVariables(query.expr, GRAFANA_VARIABLES);
      try {
        return { query, expanded, samples: await prom.query(expanded) };
      } catch (err) {
        return { query, expanded, samples: [], error: (err as Error).message };
      }
    }),
  );
}

/** Sum of the non-NaN values of the retry panels' expressions for the speculative strategy. */
async function speculativeRetries(
  prom: PrometheusUnderTest,
  retryQueries: readonly DashboardQuery[],
): Promise<number[]> {
  return Promise.all(
    retryQueries.map(async (q) => {
      const expr = expandVariables(q.expr, { ...GRAFANA_VARIABLES, strategy: SPECULATIVE });
      const samples = await prom.query(expr);
      return samples.reduce((sum, s) => (Number.isNaN(s.value) ? sum : sum + s.value), 0);
    }),
  );
}

function describeEmpty(evaluations: readonly Evaluation[]): string {
  return evaluations
    .filter((e) => e.samples.length === 0)
    .map((e) => `  ${e.query.where}: ${e.error ?? 'no series'}\n    ${e.expanded}`)
    .join('\n');
}

test('every dashboard query returns series from a real Prometheus scraping the real service', {
  timeout: 120_000,
}, async () => {
  const dashboard: unknown = JSON.parse(readFileSync(repoPath(DASHBOARD_JSON_PATH), 'utf8'));
  const queries = panelQueries(dashboard);
  assert.ok(queries.length >= 15, `expected the full dashboard, found ${queries.length} queries`);
  // The retry-rate and retry-ratio panels: every query over the retries counter.
  const retryQueries = queries.filter((q) =>
    metricNames(q.expr).includes('procfs_speculation_retries_total'),
  );
  assert.equal(retryQueries.length, 2, 'expected the retry rate and retry ratio panels');

  await prometheusVersion();
  const service = await ServiceUnderTest.start(SERVER_READY_MS);
  let prom: PrometheusUnderTest | undefined;
  let load: ReadLoad | undefined;
  try {
    prom = await PrometheusUnderTest.start(
      await testScrapeConfig(
        repoPath('deploy/prometheus/prometheus.yml'),
        'procfs-sim',
        service.hostPort,
      ),
      PROMETHEUS_READY_MS,
    );

    // Busy writers: the built-in churn profile, and a loop that names and unnames an anonymous
    // mapping (name storage freed under lockless_nofallback readers: where hazards come from).
    const churn = await service.createProcess({ comm: 'e2e-churn', template: 'node' });
    await service.startActivity(churn, { profile: 'mmap_churn' });
    const namer = await service.createProcess({ comm: 'e2e-namer', template: 'node' });
    const addr = '0x100000000000';
    const length = '0x10000';
    await service.startActivity(namer, {
      loop: [
        { op: 'mmap', addr, length, prot: 'rw-', flags: ['private', 'anonymous', 'fixed'] },
        { op: 'anon_name', addr, length, name: 'e2e-probe' },
        { op: 'anon_name', addr, length, name: null },
        { op: 'munmap', addr, length },
      ],
    });
    // Where lockless retries come from, whatever the machine's load: a retry is a write landing
    // between the sequence a reader recorded (at its chunk's start, or at its last momentary mmap
    // lock: every named or special VMA of the node layouts above) and a line's validation, so it
    // needs the writer to run inside a reader's window. The busy processes above give few such
    // windows (mmap_churn spends most of its cycle faulting, which moves no sequence; the namer
    // holds the lock nearly always, so readers take it and cannot retry), and a loaded 2-core
    // machine once ran the whole deadline without one. Here: 2,048 plain VMAs read in one window
    // (?chunk=0, ~1 ms of speculation) while a writer flips one VMA's prot 5,000 times a second,
    // holding the lock a few µs each time: most reads retry.
    const flipper = await service.createProcess({ comm: 'e2e-flipper', template: 'minimal' });
    const flipBase = 0x2000_0000_0000;
    const calls = Array.from({ length: 2048 }, (_, i) => ({
      op: 'mmap',
      addr: `0x${(flipBase + i * 0x1000).toString(16)}`,
      length: '0x1000',
      prot: i % 2 ? 'r--' : 'rw-',
      flags: ['private', 'anonymous', 'fixed'],
    }));
    assert.equal((await service.json('POST', `/proc/${flipper}/syscalls`, { calls })).status, 200);
    const flip = `0x${flipBase.toString(16)}`;
    await service.startActivity(flipper, {
      loop: [
        { op: 'mprotect', addr: flip, length: '0x1000', prot: 'r--' },
        { op: 'mprotect', addr: flip, length: '0x1000', prot: 'rw-' },
      ],
      rate_per_s: 5000,
    });
    const idle = await service.createProcess({ comm: 'e2e-idle', template: 'minimal' });
    const exited = await service.createProcess({ comm: 'e2e-exited', template: 'minimal' });
    assert.equal((await service.json('DELETE', `/processes/${exited}`)).status, 204);

    load = new ReadLoad({
      baseUrl: service.baseUrl,
      readPids: [churn, namer],
      mutatePid: idle,
      exitedPid: exited,
      strategies: STRATEGIES,
      workers: 6,
      speculative: { pid: flipper, strategy: SPECULATIVE },
    });
    load.start();

    // Scrapes happen once a second: poll until every panel has data and the speculative
    // strategy shows retries, or the budget runs out (then the assertions below say what lacks).
    let evaluations: Evaluation[] = [];
    let retries: number[] = [];
    const satisfied = () =>
      evaluations.length > 0 &&
      evaluations.every((e) => e.samples.length > 0) &&
      retries.every((r) => r > 0);
    await pollUntil(
      async () => {
        evaluations = await evaluateAll(prom!, queries);
        retries = await speculativeRetries(prom!, retryQueries);
        return satisfied() ? true : undefined;
      },
      {
        what: 'every dashboard query to return data',
        timeoutMs: DATA_READY_MS,
        intervalMs: 1000,
        abort: () =>
          service.child.running ? null : `the server exited\n${service.child.output()}`,
      },
    ).catch(() => undefined); // the assertions below report precisely what is missing

    const report = await load.stop();
    load = undefined;
    assert.ok(report.requests > 0, 'the load made no requests');
    assert.deepEqual(
      Object.fromEntries(report.unexpected),
      {},
      'unexpected HTTP statuses under load',
    );

    assert.equal(
      describeEmpty(evaluations),
      '',
      `dashboard queries without data (scraping ${service.baseUrl}/metrics). A counter of a ` +
        'bounded label set (e.g. hazards by kind) exists only once incremented unless the service ' +
        `initialises it at zero.\n${service.child.output()}`,
    );
    for (const [i, q] of retryQueries.entries()) {
      assert.ok(retries[i]! > 0, `${q.where} is zero for ${SPECULATIVE} under a busy writer`);
    }

    // The strategy template variable: Grafana runs label_values() as this API call.
    const variable = queryVariables(dashboard).find((v) => v.name === 'strategy')!;
    const [, metric, label] = /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.query)!;
    const values = await prom.labelValues(label!, metric!);
    for (const strategy of STRATEGIES) {
      assert.ok(values.includes(strategy), `variable strategy lacks ${strategy}: ${values}`);
    }
  } finally {
    await load?.stop();
    await prom?.stop();
    await service.stop();
  }
});
