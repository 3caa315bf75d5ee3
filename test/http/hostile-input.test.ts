/**
 * Issue 11 finding 7: one request must not hold the event loop for seconds. What this checks (no
 * timings: the figures come from bench/http/stall-probe.ts): bodies are capped per route at what
 * the route can need, JSON nested deeper than any body needs is refused before parsing, an
 * over-long batch is refused before any entry is looked at, a bad batch entry's error is built
 * cheaply (named field, no stack trace) and nothing reaches the engine on a refusal.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BATCH_ENTRY_BYTES, SMALL_BODY_BYTES } from '../../src/schemas/body-limits.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from '../../src/schemas/json-depth.js';
import { parseCallEntry } from '../../src/schemas/syscalls.js';
import { UapiValueError } from '../../src/schemas/uapi.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

const json = { 'content-type': 'application/json' };
const engineCalls = (sim: FakeSim) => sim.log.filter((l) => l.method !== 'listProcesses').length;

describe('JSON depth', () => {
  test('the scan counts brackets outside strings only', () => {
    const b = (s: string) => Buffer.from(s);
    assert.equal(jsonNestsDeeperThan(b('[[[]]]'), 3), false);
    assert.equal(jsonNestsDeeperThan(b('[[[[]]]]'), 3), true);
    assert.equal(jsonNestsDeeperThan(b('{"a":{"b":{"c":{}}}}'), 3), true);
    assert.equal(jsonNestsDeeperThan(b('["[[[[[[", "\\"[[[[[["]'), 3), false);
    assert.equal(jsonNestsDeeperThan(b('[[],[],[],[],[],[]]'), 3), false);
  });

  test('a deeply nested body is 400 EINVAL before parsing, on every route', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { maxBatch: 65_536, bodyLimit: 16 << 20 });
    try {
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      for (const [url, payload] of [
        ['/proc/1/syscalls', `{"calls":${deep}}`],
        ['/proc/1/munmap', `{"addr":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`],
        ['/processes', `{"maps":"x","activity":${deep}}`],
      ]) {
        const r = await app.inject({ method: 'POST', url, payload, headers: json });
        assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
        assert.deepEqual(r.json(), {
          error: 'EINVAL',
          errno: 22,
          message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels`,
        });
      }
      // The deepest real body still parses: an activity loop entry with flags.
      const ok = await app.inject({
        method: 'PUT',
        url: '/processes/1/activity',
        payload: { loop: [{ op: 'mmap', length: 4096, prot: 'rw-', flags: ['private'] }] },
      });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(sim.log.filter((l) => l.method === 'syscalls').length, 0);
    } finally {
      await app.close();
    }
  });
});

describe('per-route body limits', () => {
  test('single calls take 64 KiB, batches 256 B per allowed entry, creation --body-limit', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { maxBatch: 1024, bodyLimit: 4 << 20 });
    try {
      const pad = (n: number) => 'x'.repeat(n);
      const big = await app.inject({
        method: 'POST',
        url: '/proc/1/anon_name',
        payload: `{"addr":"0x1000","length":"0x1000","name":"${pad(SMALL_BODY_BYTES)}"}`,
        headers: json,
      });
      assert.equal(big.statusCode, 413, big.body);
      assert.equal(big.json().error, 'E2BIG');
      // A batch may be larger: 1024 entries × 256 B = 256 KiB here.
      const entry = { op: 'munmap', addr: `0x${'0'.repeat(56)}1000`, length: '0x1000' };
      const calls = Array(1000).fill(entry);
      const bytes = JSON.stringify({ calls }).length;
      assert.ok(bytes > SMALL_BODY_BYTES && bytes < 1024 * BATCH_ENTRY_BYTES, `${bytes}`);
      const fits = await app.inject({
        method: 'POST',
        url: '/proc/1/syscalls',
        payload: { calls },
      });
      assert.equal(fits.statusCode, 200, fits.body.slice(0, 200));
      const tooBig = await app.inject({
        method: 'POST',
        url: '/proc/1/syscalls',
        payload: `{"calls":[],"x":"${pad(1024 * BATCH_ENTRY_BYTES)}"}`,
        headers: json,
      });
      assert.equal(tooBig.statusCode, 413, tooBig.body);
      // Creating from a maps text takes up to --body-limit (here 4 MiB).
      const maps = '00400000-00401000 r--p 00000000 00:00 0 \n'.repeat(20_000);
      const created = await app.inject({ method: 'POST', url: '/processes', payload: { maps } });
      assert.equal(created.statusCode, 201, created.body.slice(0, 200));
    } finally {
      await app.close();
    }
  });
});

describe('batches', () => {
  test('an over-long batch is E2BIG before its entries are validated', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { maxBatch: 4 });
    try {
      for (const [url, payload] of [
        ['/proc/1/syscalls', { calls: [1, 2, 3, 4, 5] }],
        ['/proc/1/procmap_query', { queries: [1, 2, 3, 4, 5] }],
        ['/proc/1/procmap_query', { addrs: [[], [], [], [], []] }],
      ] as const) {
        const r = await app.inject({ method: 'POST', url, payload });
        assert.equal(r.statusCode, 400, r.body);
        assert.equal(r.json().error, 'E2BIG', `${url}: ${r.body}`);
      }
      assert.equal(engineCalls(sim), 0);
    } finally {
      await app.close();
    }
  });

  test('a bad entry names its field, and its error carries no stack trace', async () => {
    const cases: Array<[unknown, string]> = [
      [{ op: 'mmap', length: 'x', prot: 'rw-', flags: [] }, 'mmap: length "x" is not a u64'],
      [{ op: 'mmap', length: 1, prot: 'rw-' }, 'mmap: flags is required'],
      [{ op: 'munmap', addr: 1, length: 1, zz: 1 }, 'munmap: unknown field "zz"'],
      [
        { op: 'mprotect', addr: 1, length: 1, prot: 'rwz' },
        'mprotect: prot "rwz" is not a prot like "rw-"',
      ],
    ];
    for (const [entry, message] of cases) {
      assert.throws(
        () => parseCallEntry(entry),
        (e: Error) => {
          assert.ok(e instanceof UapiValueError);
          assert.equal(e.message, message);
          assert.doesNotMatch(e.stack ?? '', /\n\s+at /);
          return true;
        },
      );
    }
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { maxBatch: 4 });
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/proc/1/syscalls',
        payload: { calls: [cases[0][0], { op: 'brk', addr: 0 }] },
      });
      assert.equal(r.statusCode, 200);
      assert.deepEqual(r.json().results[0], { error: 'EINVAL', errno: 22, message: cases[0][1] });
      assert.deepEqual(r.json().results[1], { brk: '0x555555559000' });
    } finally {
      await app.close();
    }
  });
});
