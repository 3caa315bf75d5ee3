/**
 * The reads' fast path (src/plugins/app/read-fast-path.ts) on a real listening server (inject()
 * goes around it): the plain forms (`procmap_query?addr=0x…`, `maps`) must answer exactly what
 * fastify's routes answer for the same read (compared with `&flags=0` and `?chunk=4096`, the same
 * reads by the routes), take the fast path only for a success with every request check passing,
 * hand every other outcome to fastify with the engine's answer (the read counted once), and count
 * their requests in the routes' request-duration series.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { lentReads, slabAllocations } from '../../src/cpus/read-pieces.js';
import { Sim } from '../../src/cpus/sim.js';
import { queryAnswerJsonHits } from '../../src/schemas/query.js';
import { testConfig } from './helpers.js';

const TOKEN = 'fast-path-token';
/** The gate line an imported x86-64 layout ends with. */
const VSYSCALL =
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Answer {
  status: number;
  type: string | null;
  length: string | null;
  retryAfter: string | null;
  body: string;
}

describe('reads fast path (real server)', () => {
  let sim: Sim;
  let app: FastifyInstance;
  let base = '';
  let healthy = true;
  let pid = 0;
  let hit = '';

  before(async () => {
    const c = testConfig({ token: TOKEN, bodyLimit: 1 << 20 });
    // One worker CPU, reads on the event loop: the server's own transport (a maps read comes back whole).
    sim = await Sim.start({ ...c, cpus: 1, population: 0 });
    app = await buildApp({
      config: c,
      sim,
      healthCheck: async () => healthy,
      healthCheckIntervalMs: 10,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const r = await fetch(`${base}/processes`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ template: 'bash' }),
    });
    pid = ((await r.json()) as { pid: number }).pid;
    const maps = await (await fetch(`${base}/proc/${pid}/maps`, { headers: AUTH })).text();
    hit = maps.split('-')[0];
  });
  after(() => app.close());

  /** GET over node's client (fetch would not send our Host header). */
  const get = (path: string, headers: Record<string, string> = AUTH): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = request(`${base}${path}`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => {
          const h = (name: string) => (res.headers[name] as string | undefined) ?? null;
          resolve({
            status: res.statusCode ?? 0,
            type: h('content-type'),
            length: h('content-length'),
            retryAfter: h('retry-after'),
            body,
          });
        });
      });
      req.on('error', reject);
      req.end();
    });
  /** The plain form's answer, whether fastify saw it, and the route's answer to the same read. */
  const both = async (path: string, headers?: Record<string, string>) => {
    const seen = app.readFastPath.answered;
    const plain = await get(path, headers);
    const viaFastify = app.readFastPath.answered === seen;
    const routedPath = path.endsWith('/maps') ? `${path}?chunk=4096` : `${path}&flags=0`;
    const routed = await get(routedPath, headers);
    assert.equal(app.readFastPath.answered, seen + (viaFastify ? 0 : 1), 'flags=0: fastify');
    return { plain, viaFastify, routed };
  };
  const metric = async (prefix: string) => {
    const text = (await get('/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line === undefined ? 0 : Number(line.split(' ').at(-1));
  };
  const queryDurations = (status: number) =>
    metric(
      `http_request_duration_seconds_count{method="GET",route="/proc/:pid/procmap_query",status_code="${status}"}`,
    );
  const queryReads = () => metric('procfs_reads_total{op="query",strategy="per_vma"}');

  test('a VMA found, its address in capitals: the fast path, the route`s bytes', async () => {
    const { plain, viaFastify, routed } = await both(
      `/proc/${pid}/procmap_query?addr=0x${hit.toUpperCase()}`,
    );
    assert.equal(viaFastify, false);
    assert.equal(plain.status, 200);
    assert.deepEqual(plain, routed);
  });

  test('a VMA found: the route`s bytes, without fastify, counted once', async () => {
    const [d0, r0] = [await queryDurations(200), await queryReads()];
    const { plain, viaFastify, routed } = await both(`/proc/${pid}/procmap_query?addr=0x${hit}`);
    assert.equal(viaFastify, false);
    assert.equal(plain.status, 200);
    assert.deepEqual(plain, routed);
    assert.equal(JSON.parse(plain.body).vma_start, `0x${hit}`);
    assert.equal(await queryDurations(200), d0 + 2);
    assert.equal(await queryReads(), r0 + 2);
  });

  test('the same answer again is the memo`s JSON; a changed VMA is answered anew', async () => {
    const post = async (op: string, body: object) => {
      const r = await fetch(`${base}/proc/${pid}/${op}`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 200, `${op}: ${await r.clone().text()}`);
    };
    const addr = '0x500000000000';
    await post('mmap', {
      addr,
      length: '0x2000',
      prot: 'rw-',
      flags: ['private', 'anonymous', 'fixed_noreplace'],
    });
    const query = async () => {
      const seen = app.readFastPath.answered;
      const r = await get(`/proc/${pid}/procmap_query?addr=${addr}`);
      assert.equal(r.status, 200);
      assert.equal(app.readFastPath.answered, seen + 1);
      return JSON.parse(r.body) as Record<string, unknown>;
    };
    const first = await query();
    const hits = queryAnswerJsonHits();
    assert.deepEqual(await query(), first);
    assert.equal(queryAnswerJsonHits(), hits + 1);
    assert.deepEqual([first.vma_end, first.vma_flags, first.vma_name], ['0x500000002000', 3, null]);
    // Each change of the VMA shows at once: flags (and a split), then a name.
    await post('mprotect', { addr, length: '0x1000', prot: 'r--' });
    const split = await query();
    assert.deepEqual([split.vma_end, split.vma_flags], ['0x500000001000', 1]);
    assert.deepEqual(split.vma_flags_names, ['VMA_READABLE']);
    await post('anon_name', { addr, length: '0x1000', name: 'memo' });
    assert.equal((await query()).vma_name, '[anon:memo]');
  });

  test('no VMA, no process: fastify answers with the engine`s answer, read counted once', async () => {
    for (const [path, status, error] of [
      [`/proc/${pid}/procmap_query?addr=0x10`, 404, 'ENOENT'],
      [`/proc/${pid}/procmap_query?addr=0xffffffffffffffff`, 404, 'ENOENT'],
      ['/proc/99999/procmap_query?addr=0x10', 404, 'ESRCH'],
    ] as const) {
      const r0 = await queryReads();
      const d0 = await queryDurations(status);
      const { plain, viaFastify, routed } = await both(path);
      assert.equal(viaFastify, true, path);
      assert.equal(plain.status, status, path);
      assert.equal(JSON.parse(plain.body).error, error, path);
      assert.deepEqual(plain, routed, path);
      if (error === 'ENOENT') assert.equal(await queryReads(), r0 + 2, path);
      assert.equal(await queryDurations(status), d0 + 2, path);
    }
  });

  test('a request a check refuses is fastify`s: token, Host, overload', async () => {
    const path = `/proc/${pid}/procmap_query?addr=0x${hit}`;
    const noToken = await both(path, {});
    assert.equal(noToken.viaFastify, true);
    assert.equal(noToken.plain.status, 401);
    assert.deepEqual(noToken.plain, noToken.routed);

    const badHost = await both(path, { ...AUTH, host: 'evil.example' });
    assert.equal(badHost.viaFastify, true);
    assert.equal(badHost.plain.status, 403);
    assert.deepEqual(badHost.plain, badHost.routed);

    healthy = false;
    try {
      // The health check runs every 10 ms: wait (bounded) until the service says it is overloaded.
      let seen: Answer | null = null;
      for (let i = 0; i < 500 && seen?.status !== 503; i++) {
        seen = await get('/config');
        if (seen.status !== 503) await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(seen?.status, 503);
      const loaded = await both(path);
      assert.equal(loaded.viaFastify, true);
      assert.equal(loaded.plain.status, 503);
      assert.equal(JSON.parse(loaded.plain.body).error, 'EBUSY');
      assert.ok(loaded.plain.retryAfter !== null);
      assert.deepEqual(loaded.plain, loaded.routed);
    } finally {
      healthy = true;
      // Bounded wait until the next health check has seen it.
      for (let i = 0; i < 500 && (await get('/config')).status === 503; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  });

  test('maps: a text in one piece without fastify; a longer one and no process via fastify', async () => {
    const ok = await both(`/proc/${pid}/maps`);
    assert.equal(ok.viaFastify, false);
    assert.equal(ok.plain.status, 200);
    assert.deepEqual(ok.plain, ok.routed);
    const d0 = await metric(
      'http_request_duration_seconds_count{method="GET",route="/proc/:pid/maps",status_code="200"}',
    );
    const r0 = await metric('procfs_reads_total{op="maps",strategy="per_vma"}');

    // ~100 KB of maps text: more than one event-loop turn (64 KiB), streamed by the route.
    const lines = Array.from({ length: 2000 }, (_, i) => {
      const start = (0x7f0000000000 + i * 0x3000).toString(16);
      const end = (0x7f0000000000 + i * 0x3000 + 0x1000).toString(16);
      return `${start}-${end} rw-p 00000000 00:00 0 `;
    });
    const created = await fetch(`${base}/processes`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ comm: 'big', maps: `${[...lines, VSYSCALL].join('\n')}\n` }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const big = ((await created.json()) as { pid: number }).pid;
    const long = await both(`/proc/${big}/maps`);
    assert.equal(long.viaFastify, true);
    assert.equal(long.plain.status, 200);
    assert.ok(long.plain.body.length > 64 * 1024);
    assert.deepEqual(long.plain, long.routed);
    assert.equal(await metric('procfs_reads_total{op="maps",strategy="per_vma"}'), r0 + 2);
    const d1 = await metric(
      'http_request_duration_seconds_count{method="GET",route="/proc/:pid/maps",status_code="200"}',
    );
    assert.equal(d1, d0 + 2);

    const none = await both('/proc/99999/maps');
    assert.equal(none.viaFastify, true);
    assert.equal(none.plain.status, 404);
    assert.deepEqual(none.plain, none.routed);
  });

  test('maps: answers in parallel and in a row (their memory given back) are each the route`s bytes', async () => {
    const routed = await get(`/proc/${pid}/maps?chunk=4096`);
    // 400 answers of ~4.3 KB each, 16 in flight at a time, on each path: the fast path (plain
    // form) and fastify's route (`?chunk=4096`). The process does not change, so each read is
    // the reader's memo text itself (lent), pinned until its reply was written: a path that did
    // not give it back would leave its reads outstanding.
    for (const path of [`/proc/${pid}/maps`, `/proc/${pid}/maps?chunk=4096`]) {
      const seen = app.readFastPath.answered;
      const lent = lentReads();
      for (let round = 0; round < 25; round++) {
        const answers = await Promise.all(Array.from({ length: 16 }, () => get(path)));
        for (const a of answers) assert.deepEqual(a, routed);
      }
      const fast = path.endsWith('/maps');
      assert.equal(app.readFastPath.answered, seen + (fast ? 400 : 0), path);
      await new Promise((r) => setImmediate(r)); // the last replies' `finish`
      assert.ok(lentReads().made - lent.made >= 390, `${path}: reads lent`);
      assert.equal(lentReads().outstanding, lent.outstanding, `${path}: lent reads given back`);
    }
  });

  test('maps: reads copied into slab memory give it back (the process changes between reads)', async () => {
    // Each read sees a page mapped or unmapped since the last: its lines are not one run of the
    // memo, so it is copied into a 256 KiB slab (~60 answers a slab), reused once its replies
    // were written: a path that did not give its pieces back would allocate a slab every ~60.
    const spare = 0x7e0000000000;
    for (const path of [`/proc/${pid}/maps`, `/proc/${pid}/maps?chunk=4096`]) {
      const slabs = slabAllocations();
      const lent = lentReads().made;
      for (let round = 0; round < 300; round++) {
        const call =
          round % 2 === 0
            ? {
                op: 'mmap' as const,
                addr: spare,
                length: 4096,
                prot: 1,
                flags: 0x100022,
                offset: 0,
                file: null,
              }
            : { op: 'munmap' as const, addr: spare, length: 4096 };
        const [r] = await sim.syscalls(pid, [call]);
        assert.equal(typeof r, 'number');
        const a = await get(path);
        assert.equal(a.status, 200);
        assert.equal(a.body.includes('7e0000000000-'), round % 2 === 0, path);
      }
      assert.equal(lentReads().made, lent, `${path}: no read lent`);
      assert.ok(slabAllocations() - slabs <= 2, `${path}: ${slabAllocations() - slabs} slabs`);
    }
  });

  test('other forms are fastify`s: other keys, decimal, a body, HEAD', async () => {
    for (const [path, init] of [
      [`/proc/${pid}/procmap_query?addr=0x${hit}&strategy=mmap_lock`, {}],
      [`/proc/${pid}/procmap_query?addr=${Number.parseInt(hit, 16)}`, {}],
      [`/proc/${pid}/procmap_query?addr=0x${hit}`, { method: 'HEAD' }],
      [`/proc/0${pid}/procmap_query?addr=0x${hit}`, {}],
      [`/proc/${pid}/procmap_query?addr=0X${hit}`, {}],
      [`/proc/${pid}/procmap_query?addr=0x`, {}],
      [`/proc/${pid}/procmap_query?addr=0x1${'0'.repeat(16)}`, {}],
      [`/proc/${pid}/procmap_query?addr=0x${hit}g`, {}],
      [`/proc/${pid}/procmap_query?addr=0x${hit}&flags=0`, {}],
      ['/proc/2147483648/procmap_query?addr=0x10', {}],
      ['/proc/12345678901/maps', {}],
      ['/proc//maps', {}],
      [`/proc/${pid}/maps/`, {}],
      [`/proc/${pid}/mapsx`, {}],
      [`/proc/${pid}x/maps`, {}],
      [`/proc/${pid}/maps?strategy=mmap_lock`, {}],
      [`/proc/${pid}/maps`, { method: 'HEAD' }],
    ] as const) {
      const seen = app.readFastPath.answered;
      const r = await fetch(`${base}${path}`, { headers: AUTH, ...init });
      await r.arrayBuffer();
      assert.equal(app.readFastPath.answered, seen, path);
    }
  });
});
