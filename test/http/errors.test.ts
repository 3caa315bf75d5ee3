/**
 * The one error path: every failure is `{error, errno, message}` with API.md's status, schema
 * failures are 400 EINVAL with a message naming the field, never a 500 for bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SimError } from '../../src/cpus/sim-api.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

describe('errors', () => {
  const sim = new FakeSim([1]);
  let app: FastifyInstance;
  before(async () => {
    app = await appWith(sim);
  });
  after(() => app.close());

  test('unknown route: 404 ENOENT JSON', async () => {
    const r = await app.inject({ method: 'GET', url: '/nope?x=1' });
    assert.equal(r.statusCode, 404);
    assert.match(r.headers['content-type'] as string, /application\/json/);
    assert.deepEqual(r.json(), { error: 'ENOENT', errno: 2, message: 'no route GET /nope' });
  });

  test('unknown pid: 404 ESRCH', async () => {
    const r = await app.inject({ method: 'GET', url: '/processes/999' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error, 'ESRCH');
    assert.equal(r.json().errno, 3);
  });

  test('schema failure names the field: 400 EINVAL', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0x1000', length: 'twelve' },
    });
    assert.equal(r.statusCode, 400);
    const body = r.json();
    assert.equal(body.error, 'EINVAL');
    assert.equal(body.errno, 22);
    assert.match(body.message, /length/);
  });

  test('unknown body field is refused, not ignored', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0x1000', length: '0x1000', lenght: 1 },
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'EINVAL');
  });

  test('malformed JSON and a bad pid are 400 EINVAL, not 500', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/proc/1/brk',
      headers: { 'content-type': 'application/json' },
      payload: '{"addr":',
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error, 'EINVAL');
    const pid = await app.inject({ method: 'GET', url: '/processes/abc' });
    assert.equal(pid.statusCode, 400);
    assert.equal(pid.json().error, 'EINVAL');
  });

  test('unsafe JSON integers are refused; the same value as a string is exact', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      headers: { 'content-type': 'application/json' },
      payload: '{"addr":9007199254740993,"length":4096}',
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'EINVAL');
  });

  test('values of 2^64 and more are EINVAL', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/proc/1/munmap',
      payload: { addr: '0x10000000000000000', length: '0x1000' },
    });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().message, /64 bits/);
  });

  test('engine errnos get the documented statuses', async () => {
    const cases: Array<[string, number, number]> = [
      ['EINVAL', 22, 400],
      ['EOVERFLOW', 75, 400],
      ['ENAMETOOLONG', 36, 400],
      ['E2BIG', 7, 400],
      ['EPERM', 1, 403],
      ['EACCES', 13, 403],
      ['ENOENT', 2, 404],
      ['EEXIST', 17, 409],
      ['ENOMEM', 12, 409],
    ];
    for (const [code, errno, status] of cases) {
      sim.syscallAnswer = () => new SimError(errno, code, `${code} from the engine`);
      const r = await app.inject({
        method: 'POST',
        url: '/proc/1/mprotect',
        payload: { addr: '0x1000', length: '0x1000', prot: 'r--' },
      });
      assert.equal(r.statusCode, status, code);
      assert.deepEqual(r.json(), { error: code, errno, message: `${code} from the engine` });
    }
  });

  test('EAGAIN is 429 and EBUSY 503, both with Retry-After', async () => {
    sim.syscallAnswer = () => new SimError(11, 'EAGAIN', 'try again');
    const a = await app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: 0 } });
    assert.equal(a.statusCode, 429);
    assert.equal(a.headers['retry-after'], '2');
    sim.syscallAnswer = () => new SimError(16, 'EBUSY', 'queue full');
    const b = await app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: 0 } });
    assert.equal(b.statusCode, 503);
    assert.equal(b.headers['retry-after'], '2');
  });

  test('an engine bug is a 500 EIO without internals', async () => {
    sim.syscallAnswer = () => {
      throw new TypeError('secret internal detail');
    };
    const r = await app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: 0 } });
    assert.equal(r.statusCode, 500);
    assert.deepEqual(r.json(), { error: 'EIO', errno: 5, message: 'internal error' });
    sim.syscallAnswer = () => 0;
  });
});

describe('limits', () => {
  test('a body above the limit is 413 E2BIG', async () => {
    const app = await appWith(new FakeSim([1]), { bodyLimit: 1024 });
    const r = await app.inject({
      method: 'POST',
      url: '/processes',
      payload: { maps: 'x'.repeat(2000) },
    });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().error, 'E2BIG');
    assert.equal(r.json().errno, 7);
    await app.close();
  });

  test('a batch above max-batch is 400 E2BIG and reaches no engine', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { maxBatch: 2 });
    const calls = Array.from({ length: 3 }, () => ({ op: 'brk', addr: 0 }));
    const r = await app.inject({ method: 'POST', url: '/proc/1/syscalls', payload: { calls } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error, 'E2BIG');
    const queries = Array.from({ length: 3 }, () => ({ addr: 0 }));
    const q = await app.inject({
      method: 'POST',
      url: '/proc/1/procmap_query',
      payload: { queries },
    });
    assert.equal(q.statusCode, 400);
    assert.equal(q.json().error, 'E2BIG');
    assert.equal(sim.log.filter((l) => l.method !== 'listProcesses').length, 0);
    await app.close();
  });

  test('overload (under-pressure) is 503 EBUSY with Retry-After, healthz included', async () => {
    let healthy = false;
    const app = await appWith(new FakeSim([1]), {}, { healthCheck: async () => healthy });
    const r = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 503);
    assert.equal(r.json().error, 'EBUSY');
    assert.equal(r.headers['retry-after'], '2');
    healthy = true;
    await app.close();
  });
});

describe('shutdown (inject)', () => {
  test('a request in flight when close starts completes; the sim is closed with the app', async () => {
    const sim = new FakeSim([1]);
    let release!: () => void;
    sim.gate = new Promise<void>((r) => {
      release = r;
    });
    const app = await appWith(sim);
    const inFlight = app.inject({ method: 'POST', url: '/proc/1/brk', payload: { addr: 0 } });
    // The request has reached the engine before close starts.
    for (let i = 0; i < 1000 && !sim.log.some((l) => l.method === 'syscalls'); i++) {
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(sim.log.some((l) => l.method === 'syscalls'));
    let closedYet = false;
    const closed = app.close().then(() => {
      closedYet = true;
    });
    release();
    const done = await inFlight;
    assert.equal(done.statusCode, 200);
    assert.deepEqual(done.json(), { brk: '0x555555559000' });
    await closed;
    assert.equal(closedYet, true);
    assert.equal(sim.closed, true, 'the sim is closed with the app');
  });
});

describe('--token', () => {
  test('every request but /healthz needs the bearer token: 401 EACCES otherwise', async () => {
    const app = await appWith(new FakeSim([1]), { token: 's3cret' });
    const none = await app.inject({ method: 'GET', url: '/processes' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.deepEqual(none.json(), {
      error: 'EACCES',
      errno: 13,
      message: 'missing or bad bearer token',
    });
    const wrong = await app.inject({
      method: 'GET',
      url: '/proc/1/maps',
      headers: { authorization: 'Bearer s3creT' },
    });
    assert.equal(wrong.statusCode, 401);
    const ok = await app.inject({
      method: 'GET',
      url: '/processes',
      headers: { authorization: 'Bearer s3cret' },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    await app.close();
  });
});
