/**
 * Routes through inject(), against a recording fake sim (routes-fixture.ts): the service routes:
 * config and strategy switch, healthz, metrics, OpenAPI docs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useRoutesFixture } from './routes-fixture.js';

const fx = useRoutesFixture();

describe('service', () => {
  test('config get and strategy switch', async () => {
    const g = await fx.app.inject({ method: 'GET', url: '/config' });
    assert.equal(g.json().strategy, 'per_vma');
    assert.equal(g.json().max_batch, 8);
    const p = await fx.app.inject({
      method: 'PUT',
      url: '/config/strategy',
      payload: { strategy: 'lockless_nofallback' },
    });
    assert.equal(p.statusCode, 200);
    assert.equal(p.json().strategy, 'lockless_nofallback');
    assert.equal(fx.sim.strategy, 'lockless_nofallback');
    const bad = await fx.app.inject({
      method: 'PUT',
      url: '/config/strategy',
      payload: { strategy: 'yolo' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(fx.sim.strategy, 'lockless_nofallback');
    fx.sim.strategy = 'per_vma';
  });

  test('healthz', async () => {
    const r = await fx.app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(r.json(), { status: 'ok' });
  });

  test('metrics: engine families, gauges, default and HTTP metrics; no pid label', async () => {
    await fx.app.inject({ method: 'GET', url: '/proc/1/maps' });
    const r = await fx.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /text\/plain/);
    assert.match(r.body, /# TYPE procfs_reads_total counter/);
    const n = fx.sim.procs.size;
    assert.match(r.body, new RegExp(`\nprocfs_processes ${n}\n`));
    assert.match(r.body, new RegExp(`\nprocfs_vmas ${3 * n}\n`));
    assert.match(r.body, /http_request_duration_seconds_bucket\{.*route="\/proc\/:pid\/maps"/);
    assert.match(r.body, /process_cpu_user_seconds_total/);
    assert.doesNotMatch(r.body, /pid="/);
  });

  test('request durations: one series per method, route pattern and status; others "unknown"', async () => {
    /** The _count of a series in the exposition (0 when absent). */
    const count = async (method: string, route: string, status: number) => {
      const body = (await fx.app.inject({ method: 'GET', url: '/metrics' })).body;
      const line = body
        .split('\n')
        .find((l) =>
          l.startsWith(
            `http_request_duration_seconds_count{method="${method}",route="${route}",status_code="${status}"}`,
          ),
        );
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const cases: Array<[string, string, string, number]> = [
      ['GET', '/proc/1/maps', '/proc/:pid/maps', 200],
      ['HEAD', '/proc/1/maps', '/proc/:pid/maps', 200],
      ['GET', '/proc/1/maps?strategy=yolo', '/proc/:pid/maps', 400],
      ['GET', '/docs/json', '/docs/json', 200],
      ['GET', '/no/such/route', 'unknown', 404],
      ['DELETE', '/healthz', 'unknown', 404],
      // Refused by the request gate on a known route: still that route's series.
      ['GET', '/proc/1/maps', '/proc/:pid/maps', 403],
    ];
    for (const [method, url, route, status] of cases) {
      const before = await count(method, route, status);
      const headers = status === 403 ? { host: 'evil.example' } : {};
      const r = await fx.app.inject({ method: method as 'GET', url, headers });
      assert.equal(r.statusCode, status, `${method} ${url}`);
      assert.equal(await count(method, route, status), before + 1, `${method} ${url}`);
    }
  });

  test('docs: OpenAPI document lists every route, UI served', async () => {
    const r = await fx.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json();
    for (const path of [
      '/processes',
      '/processes/{pid}',
      '/processes/{pid}/fork',
      '/processes/{pid}/activity',
      '/proc/{pid}/maps',
      '/proc/{pid}/procmap_query',
      '/proc/{pid}/mmap',
      '/proc/{pid}/munmap',
      '/proc/{pid}/mprotect',
      '/proc/{pid}/mremap',
      '/proc/{pid}/brk',
      '/proc/{pid}/anon_name',
      '/proc/{pid}/syscalls',
      '/config',
      '/config/strategy',
      '/metrics',
      '/healthz',
    ]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
    const ui = await fx.app.inject({ method: 'GET', url: '/docs' });
    assert.ok(ui.statusCode === 200 || ui.statusCode === 302);
  });
});
