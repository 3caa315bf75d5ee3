import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AggregatorRegistry, register as globalRegistry } from 'prom-client';
import { Instruments } from '../../src/metrics/instruments.js';
import { createMetricsRegistry } from '../../src/metrics/registry.js';
import { API_METRICS_TEXT } from './api-fixture.js';
import { assertMatchesModel, generateEvents, modelOf, replay } from './event-model.js';
import { parseExposition, samplesOf, sampleValue } from './exposition-parser.js';

const apiText = API_METRICS_TEXT;

/** Families and label names as API.md states them (transcribed from the fixture text). */
const API_FAMILIES: Record<string, { type: string; labels: string[] }> = {
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
  procfs_processes: { type: 'gauge', labels: [] },
  procfs_vmas: { type: 'gauge', labels: [] },
};

function build(gauges = { processes: 0, vmas: 0 }) {
  const instruments = Instruments.create({ capacity: 4 });
  const metrics = createMetricsRegistry({ instruments, gauges: () => gauges });
  return { instruments, metrics };
}

describe('createMetricsRegistry exposition', () => {
  it('the transcribed family table covers every metric name in API.md', () => {
    const names = new Set([...apiText.matchAll(/`(procfs_[a-z_]+)`/g)].map((m) => m[1]));
    assert.deepEqual([...names].sort(), Object.keys(API_FAMILIES).sort());
  });

  it('every API family has HELP, the API type and exactly the API label names', async () => {
    const { instruments, metrics } = build({ processes: 3, vmas: 120 });
    replay(instruments.recorder(), generateEvents(10, 5000)); // every family gets samples
    const exp = parseExposition(await metrics.registry.metrics());
    for (const [name, api] of Object.entries(API_FAMILIES)) {
      assert.equal(exp.type.get(name), api.type, name);
      assert.ok((exp.help.get(name) ?? '').length > 0, `${name} has help`);
      const samples = samplesOf(exp, name);
      assert.ok(samples.length > 0, `${name} has samples`);
      for (const s of samples) {
        const names = Object.keys(s.labels).filter((l) => l !== 'le');
        assert.deepEqual(names.sort(), [...api.labels].sort(), s.name);
        if (s.name.endsWith('_bucket')) assert.ok('le' in s.labels);
      }
    }
    assert.ok(!exp.samples.some((s) => 'pid' in s.labels), 'no pid label anywhere');
  });

  it('label values are the API enums', async () => {
    const { instruments, metrics } = build();
    replay(instruments.recorder(), generateEvents(11, 5000));
    const exp = parseExposition(await metrics.registry.metrics());
    const strategies = [...apiText.matchAll(/^\| `([a-z_]+)` *\|/gm)].map((m) => m[1]);
    const allowed: Record<string, string[]> = {
      strategy: strategies,
      lock: ['mmap_lock', 'vma_lock'],
      mode: ['read', 'write'],
      reason: ['contention', 'fancy_vma', 'detached', 'retry_limit'],
      kind: ['use_after_free', 'null_deref'],
    };
    // Families outside the API table that reuse a label name with values of their own.
    const ownValues: Record<string, Record<string, string[]>> = {
      procfs_memory_budget_bytes: { kind: ['limit', 'used'] },
      procfs_activities_refused_total: { reason: ['limit', 'thread_start', 'memory'] },
      procfs_file_table_entries: { state: ['live', 'retired'] },
    };
    const seen: Record<string, Set<string>> = {};
    for (const s of exp.samples.filter((x) => x.name.startsWith('procfs_'))) {
      const rules = { ...allowed, ...ownValues[s.name.replace(/_(bucket|sum|count)$/, '')] };
      for (const [label, value] of Object.entries(s.labels)) {
        if (!ownValues[s.name]?.[label]) (seen[label] ??= new Set()).add(value);
        if (label in rules) assert.ok(rules[label].includes(value), `${s.name} ${label}=${value}`);
        if (label === 'result') assert.match(value, /^(ok|E[A-Z0-9]+)$/);
        if (label === 'op' && s.name.startsWith('procfs_mutation')) {
          assert.ok(
            [
              'mmap',
              'munmap',
              'mprotect',
              'mremap',
              'brk',
              'anon_name',
              'madvise',
              'fork',
              'exit',
            ].includes(value),
          );
        } else if (label === 'op') {
          assert.ok(
            ['maps', 'query', 'smaps', 'smaps_rollup', 'status'].includes(value),
            `op=${value}`,
          );
        }
      }
    }
    // Every strategy appears (counters are exposed for every label set from the start).
    assert.deepEqual([...seen.strategy].sort(), [...strategies].sort());
  });

  it('histogram buckets are cumulative, end in +Inf = _count, and bounds span 100 ns … 100 ms', async () => {
    const { instruments, metrics } = build();
    replay(instruments.recorder(), generateEvents(12, 4000));
    const exp = parseExposition(await metrics.registry.metrics());
    const families = Object.entries(API_FAMILIES).filter(([, f]) => f.type === 'histogram');
    for (const [name] of families) {
      const bySeries = new Map<string, { le: string; value: number }[]>();
      for (const s of exp.samples.filter((x) => x.name === `${name}_bucket`)) {
        const { le, ...labels } = s.labels;
        const k = JSON.stringify(labels);
        bySeries.set(k, [...(bySeries.get(k) ?? []), { le, value: s.value }]);
      }
      assert.ok(bySeries.size > 0, name);
      for (const [k, buckets] of bySeries) {
        const bounds = buckets.map((b) => (b.le === '+Inf' ? Infinity : Number(b.le)));
        assert.equal(bounds[bounds.length - 1], Infinity);
        assert.ok(
          bounds[0] <= 1e-7 && bounds[bounds.length - 2] >= 0.1,
          'bounds span 100 ns … 100 ms',
        );
        for (let i = 1; i < buckets.length; i++) {
          assert.ok(bounds[i] > bounds[i - 1]);
          assert.ok(buckets[i].value >= buckets[i - 1].value, `${name}${k} cumulative`);
        }
        const count = sampleValue(exp, `${name}_count`, JSON.parse(k));
        assert.equal(buckets[buckets.length - 1].value, count);
      }
    }
  });

  it('gauges report the callback values at each scrape', async () => {
    const gauges = { processes: 7, vmas: 321 };
    const { metrics } = build(gauges);
    let exp = parseExposition(await metrics.registry.metrics());
    assert.equal(sampleValue(exp, 'procfs_processes'), 7);
    assert.equal(sampleValue(exp, 'procfs_vmas'), 321);
    gauges.processes = 8;
    gauges.vmas = 400;
    exp = parseExposition(await metrics.registry.metrics());
    assert.equal(sampleValue(exp, 'procfs_processes'), 8);
    assert.equal(sampleValue(exp, 'procfs_vmas'), 400);
  });

  it('calls the gauges callback once per scrape, and accepts an async one', async () => {
    let calls = 0;
    const instruments = Instruments.create({ capacity: 1 });
    const { registry } = createMetricsRegistry({
      instruments,
      gauges: async () => {
        calls++;
        return { processes: 2, vmas: 9 };
      },
    });
    const exp = parseExposition(await registry.metrics());
    assert.equal(calls, 1);
    assert.equal(sampleValue(exp, 'procfs_vmas'), 9);
    await registry.metrics();
    assert.equal(calls, 2);
  });

  it('includes Node default metrics and the exported HTTP duration histogram', async () => {
    const { metrics } = build();
    metrics.httpRequestDuration.observe(
      { method: 'GET', route: '/proc/:pid/maps', status_code: '200' },
      0.0003,
    );
    const exp = parseExposition(await metrics.registry.metrics());
    assert.equal(exp.type.get('process_cpu_user_seconds_total'), 'counter');
    assert.equal(exp.type.get('nodejs_eventloop_lag_seconds'), 'gauge');
    assert.equal(exp.type.get('http_request_duration_seconds'), 'histogram');
    const labels = { method: 'GET', route: '/proc/:pid/maps', status_code: '200' };
    assert.equal(sampleValue(exp, 'http_request_duration_seconds_count', labels), 1);
    assert.equal(
      sampleValue(exp, 'http_request_duration_seconds_bucket', { ...labels, le: '0.0002' }),
      0,
    );
    assert.equal(
      sampleValue(exp, 'http_request_duration_seconds_bucket', { ...labels, le: '0.0004' }),
      1,
    );
  });

  it('registries are per instance: two apps share no values, and the global registry stays empty', async () => {
    const a = build();
    const b = build();
    const eventsA = generateEvents(13, 1500);
    replay(a.instruments.recorder(), eventsA);
    a.metrics.httpRequestDuration.observe(
      { method: 'GET', route: '/healthz', status_code: '200' },
      0.001,
    );
    const expA = parseExposition(await a.metrics.registry.metrics());
    const expB = parseExposition(await b.metrics.registry.metrics());
    assertMatchesModel(expA, modelOf(eventsA));
    assertMatchesModel(expB, modelOf([]));
    assert.equal(samplesOf(expB, 'http_request_duration_seconds').length, 0);
    assert.equal(globalRegistry.getMetricsAsArray().length, 0);
  });

  it('errno results and histogram series appear once used and then stay (sticky)', async () => {
    const { instruments, metrics } = build();
    const rec = instruments.recorder();
    let exp = parseExposition(await metrics.registry.metrics());
    const errnoSeries = () =>
      exp.samples.filter((s) => s.name === 'procfs_mutations_total' && s.labels.result !== 'ok');
    assert.equal(errnoSeries().length, 0);
    assert.equal(samplesOf(exp, 'procfs_read_duration_seconds').length, 0);
    assert.equal(exp.samples.filter((s) => s.name === 'procfs_mutations_total').length, 9);

    rec.mutation(2, 13, 5000); // mprotect -> EACCES (id 13 = EACCES, errno 13)
    rec.read(0, 1, 2500);
    exp = parseExposition(await metrics.registry.metrics());
    assert.equal(
      sampleValue(exp, 'procfs_mutations_total', { op: 'mprotect', result: 'EACCES' }),
      1,
    );
    assert.equal(
      sampleValue(exp, 'procfs_read_duration_seconds_count', { op: 'maps', strategy: 'per_vma' }),
      1,
    );
    // 21 finite buckets + Inf, _sum, _count for the one series used.
    assert.equal(samplesOf(exp, 'procfs_read_duration_seconds').length, 24);

    rec.release(); // counts move to the retired block; the series must stay
    exp = parseExposition(await metrics.registry.metrics());
    assert.equal(
      sampleValue(exp, 'procfs_mutations_total', { op: 'mprotect', result: 'EACCES' }),
      1,
    );
    assert.equal(samplesOf(exp, 'procfs_read_duration_seconds').length, 24);
  });

  it('getMetricsAsJSON carries every label, so AggregatorRegistry.aggregate reprints the same', async () => {
    const { instruments, metrics } = build();
    const events = generateEvents(14, 2000);
    replay(instruments.recorder(), events);
    const json = await metrics.registry.getMetricsAsJSON();
    const merged = AggregatorRegistry.aggregate([json]);
    assertMatchesModel(parseExposition(await merged.metrics()), modelOf(events));
  });

  it('totals() feeds the rates helper with never-decreasing snapshots', () => {
    const { instruments, metrics } = build();
    const rec = instruments.recorder();
    const t0 = metrics.totals();
    rec.read(1, 0, 100);
    const t1 = metrics.totals();
    assert.ok(t1.atNs >= t0.atNs);
    assert.ok(t1.cells.every((v, i) => v >= t0.cells[i]));
    assert.ok(t1.cells.some((v, i) => v > t0.cells[i]));
  });
});
