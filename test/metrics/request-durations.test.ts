import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  HTTP_DURATION_BUCKETS,
  RequestDurationHistogram,
} from '../../src/metrics/request-durations.js';
import { parseExposition, sampleValue } from './exposition-parser.js';

describe('RequestDurationHistogram (http_request_duration_seconds)', () => {
  const labels = { method: 'GET', route: '/proc/:pid/procmap_query', status_code: '200' };

  it('prints cumulative buckets, +Inf, _sum and _count per label set, in Prometheus le semantics', async () => {
    const registry = new Registry();
    const h = new RequestDurationHistogram().register(registry);
    const s = h.series('GET', '/proc/:pid/procmap_query', 200);
    h.observeSeries(s, HTTP_DURATION_BUCKETS[0]); // on the first bound: in it (le)
    h.observeSeries(s, 0.0003);
    h.observeSeries(s, 100); // above the last bound: +Inf only
    h.observe({ ...labels, status_code: 404 }, 0.001);
    const exp = parseExposition(await registry.metrics());
    assert.equal(exp.type.get('http_request_duration_seconds'), 'histogram');
    const bucket = (le: string, l: Record<string, string> = labels) =>
      sampleValue(exp, 'http_request_duration_seconds_bucket', { ...l, le });
    assert.equal(bucket('0.00005'), 1);
    assert.equal(bucket('0.0002'), 1);
    assert.equal(bucket('0.0004'), 2);
    assert.equal(bucket(String(HTTP_DURATION_BUCKETS.at(-1))), 2);
    assert.equal(bucket('+Inf'), 3);
    assert.equal(sampleValue(exp, 'http_request_duration_seconds_count', labels), 3);
    const sum = sampleValue(exp, 'http_request_duration_seconds_sum', labels);
    assert.ok(Math.abs(sum - (0.00005 + 0.0003 + 100)) < 1e-9);
    assert.equal(bucket('+Inf', { ...labels, status_code: '404' }), 1);
  });

  it('one series per label set; a series without observations is not printed (after reset too)', async () => {
    const registry = new Registry();
    const h = new RequestDurationHistogram().register(registry);
    assert.equal(h.series('GET', '/a', 200), h.series('GET', '/a', '200'));
    assert.notEqual(h.series('GET', '/a', 200), h.series('POST', '/a', 200));
    assert.doesNotMatch(await registry.metrics(), /http_request_duration_seconds_count/);
    h.observeSeries(h.series('GET', '/a', 200), 0.01);
    assert.match(
      await registry.metrics(),
      /http_request_duration_seconds_count\{method="GET",route="\/a",status_code="200"\} 1/,
    );
    registry.resetMetrics();
    assert.doesNotMatch(await registry.metrics(), /http_request_duration_seconds_count/);
  });
});
