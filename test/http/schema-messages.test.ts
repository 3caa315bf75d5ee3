/**
 * A request that fails its schema gets one message about one field, saying what the value is not
 * (src/schemas/schema-errors.ts), instead of TypeBox's list of every union branch that failed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { SYSCALL_OPS } from '../../src/schemas/syscalls.js';
import { parseWsMessage, WsMessageError } from '../../src/schemas/ws-protocol.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

/** What TypeBox says when left alone: none of it may reach a client. */
const RAW = /anyOf|schema is false|must match a schema|must be equal to one of|must match pattern/;

describe('schema failure messages', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await appWith(new FakeSim([1]));
  });
  after(() => app.close());

  async function message(method: 'GET' | 'POST', url: string, payload?: unknown) {
    const r = await app.inject({ method, url, payload: payload as never });
    assert.equal(r.statusCode, 400, `${url} ${JSON.stringify(payload)}: ${r.body}`);
    assert.equal(r.json().error, 'EINVAL');
    return r.json().message as string;
  }

  test('a union field names what it should be', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/proc/1/procmap_query?addr=0x', undefined, 'querystring/addr "0x" is not a u64'],
      ['/proc/1/procmap_query?addr=', undefined, 'querystring/addr "" is not a u64'],
      [
        '/proc/1/procmap_query?addr=0&name=yes',
        undefined,
        'querystring/name "yes" is not a boolean',
      ],
      [
        '/proc/1/maps?strategy=bogus',
        undefined,
        'querystring/strategy "bogus" is not one of mmap_lock, per_vma, snapshot, lockless, lockless_nofallback',
      ],
      ['/proc/1/munmap', { addr: '0x', length: 4096 }, 'body/addr "0x" is not a u64'],
      [
        '/proc/1/mprotect',
        { addr: 0, length: 4096, prot: 7 },
        'body/prot 7 is not a prot like "rw-"',
      ],
    ];
    for (const [url, body, expected] of cases) {
      assert.equal(await message(body === undefined ? 'GET' : 'POST', url, body), expected);
    }
  });

  test('a body of two shapes is judged by the shape it came closest to', async () => {
    const url = '/proc/1/procmap_query';
    assert.equal(
      await message('POST', url, { queries: [{ addr: true }] }),
      'body/queries/0/addr true is not a string or an integer',
    );
    assert.equal(await message('POST', url, { addrs: 5 }), 'body/addrs 5 is not an array');
    assert.equal(
      await message('POST', url, { addrs: [1], bogus: 1 }),
      'body/bogus is not allowed here',
    );
    assert.equal(
      await message('POST', url, { queries: [{ addr: 1, x: 2 }] }),
      'body/queries/0/x is not allowed here',
    );
    // One bad address of a compact batch is one wrong place, though its union's branches give
    // several errors (it was judged the per-query form: "body/addrs is not allowed here").
    assert.equal(
      await message('POST', url, { addrs: ['0x1', 1.5] }),
      'body/addrs/1 1.5 is not a string or an integer',
    );
  });

  test('bounds and missing fields keep their own words', async () => {
    assert.equal(await message('GET', '/proc/0/maps'), 'params/pid must be >= 1');
    assert.equal(
      await message('POST', '/proc/1/munmap', { addr: 0 }),
      'body must have required properties length',
    );
  });

  test('any bad body of any mutation route: one message about one field, no raw TypeBox', async () => {
    const field = fc.constantFrom('addr', 'length', 'prot', 'flags', 'name', 'advice', 'x');
    const junk = fc.oneof(
      fc.stringMatching(/^[0-9a-fx|rw-]{0,6}$/), // no 'y': never spells body
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.stringMatching(/^[a-x]{0,4}$/), { maxLength: 2 }),
      fc.constantFrom('0x', 'r-', 'rw-', ['private', 'anonymous'], '0x1000'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...SYSCALL_OPS),
        fc.dictionary(field, junk, { maxKeys: 4 }),
        async (op, body) => {
          const r = await app.inject({ method: 'POST', url: `/proc/1/${op}`, payload: body });
          if (r.statusCode !== 400) return; // valid, or refused later by the (fake) engine
          const m = r.json().message as string;
          assert.doesNotMatch(m, RAW, `${op} ${JSON.stringify(body)}: ${m}`);
          // One field: the message names one place of the body, at its start.
          assert.match(m, /^body(\/[a-z_0-9]+)* /, m);
          assert.equal(m.split('body').length - 1, 1, m);
        },
      ),
      { numRuns: 300 },
    );
  });
});

test('/ws messages that fail their schema get the same words', () => {
  const cases: Array<[unknown, string]> = [
    [{ id: 2, op: 'procmap_query', pid: 2, addr: 'zz' }, 'procmap_query: addr "zz" is not a u64'],
    [
      { id: 3, op: 'maps', pid: 2, strategy: 'bogus' },
      'maps: strategy "bogus" is not one of mmap_lock, per_vma, snapshot, lockless, lockless_nofallback',
    ],
    [{ subscribe: 'bogus' }, 'subscribe: subscribe "bogus" is not one of "events", "rates"'],
    [{ id: 9, op: 'maps', pid: 2, x: 1 }, 'maps: x is not allowed here'],
    [{ id: 7, op: 'processes', limit: -1 }, 'processes: limit must be >= 1'],
  ];
  for (const [msg, expected] of cases) {
    assert.throws(
      () => parseWsMessage(JSON.stringify(msg)),
      (e: unknown) => e instanceof WsMessageError && e.message === expected,
      `${JSON.stringify(msg)}: expected ${expected}`,
    );
  }
});
