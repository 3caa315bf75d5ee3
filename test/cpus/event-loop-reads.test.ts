/**
 * Reads on the event loop beside worker CPUs (`--reads event-loop`, the default): they take the
 * strategy's locks for real. While a writer holds the mmap write lock, a read that needs the mmap
 * read lock (mmap_lock always; snapshot and lockless to resync their sequence) must neither block
 * the event loop nor read under the writer: it queues for the lock without blocking (seen in the
 * lock word as a blocked reader), the event loop keeps serving other requests meanwhile, and once
 * the writer leaves the read completes with the same answer as before, counted as an mmap_lock
 * read wait. per_vma needs no mmap lock for a VMA the writer has not write-locked (as in Linux).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sim } from '../../src/cpus/sim.js';
import { SYNC_WORDS_BASE } from '../../src/mm/mm-struct.js';
import { mmapLockState, mmapWriteLock, mmapWriteUnlock } from '../../src/sync/index.js';
import { appWith, testConfig } from '../http/helpers.js';

const TEXT = [
  '00400000-00401000 r--p 00000000 fe:00 77                                 /usr/bin/waiter',
  '00401000-00402000 r-xp 00001000 fe:00 77                                 /usr/bin/waiter',
  '7f0000000000-7f0000008000 rw-p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

/** Sum of the mmap_lock read-wait counts of `strategy` in a /metrics text. */
function mmapReadWaits(metrics: string, strategy: string): number {
  let n = 0;
  for (const line of metrics.split('\n')) {
    if (
      line.startsWith('procfs_lock_wait_seconds_count{') &&
      line.includes('lock="mmap_lock"') &&
      line.includes('mode="read"') &&
      line.includes(`strategy="${strategy}"`)
    ) {
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return n;
}

/** Waits (bounded) until `cond()` holds, letting the event loop run between checks. */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

test('event-loop reads queue for a held mmap lock without blocking, then answer the same', async () => {
  const sim = await Sim.start({ ...testConfig(), cpus: 1, population: 0 });
  assert.equal(sim.getConfig().reads, 'event-loop');
  const app = await appWith(sim, { cpus: 1 });
  try {
    const created = await app.inject({
      method: 'POST',
      url: '/processes',
      payload: { comm: 'demo', maps: TEXT },
    });
    const pid = created.json().pid as number;
    const mm = sim.durable.processes().find((p) => p.pid === pid)?.mm;
    assert.ok(mm);
    const get = (url: string) => app.inject({ method: 'GET', url });
    const mapsUrl = `/proc/${pid}/maps?strategy=snapshot&chunk=100`;
    const queryUrl = `/proc/${pid}/procmap_query?addr=0x401000&strategy=mmap_lock`;
    const batch = () =>
      app.inject({
        method: 'POST',
        url: `/proc/${pid}/procmap_query?strategy=lockless`,
        payload: { queries: [{ addr: '0x0', flags: 'COVERING_OR_NEXT_VMA' }, { addr: '0x1' }] },
      });
    // The compact batch under mmap_lock: its first address queues, the rest follow it.
    const compact = () =>
      app.inject({
        method: 'POST',
        url: `/proc/${pid}/procmap_query?strategy=mmap_lock`,
        payload: { addrs: ['0x0', '0x401000', '0x7f0000000010', '0x500000'] },
      });
    const before = {
      maps: (await get(mapsUrl)).body,
      query: (await get(queryUrl)).body,
      batch: (await batch()).body,
      compact: (await compact()).body,
    };
    assert.equal(before.maps, TEXT);
    const waitsBefore = mmapReadWaits((await get('/metrics')).body, 'mmap_lock');

    mmapWriteLock(mm.i32, SYNC_WORDS_BASE); // a writer in its critical section
    const pending = [get(queryUrl), get(mapsUrl), batch(), compact()];
    await until('four queued readers', () => {
      return mmapLockState(mm.i32, SYNC_WORDS_BASE).blockedReaders === 4;
    });
    // The event loop is not blocked: other requests are served, per_vma reads answer.
    assert.equal((await get('/healthz')).statusCode, 200);
    const perVma = await get(`/proc/${pid}/procmap_query?addr=0x401000&strategy=per_vma`);
    assert.equal(perVma.body, before.query);
    mmapWriteUnlock(mm.i32, SYNC_WORDS_BASE);

    const [query, maps, batched, compacted] = await Promise.all(pending);
    assert.equal(query.body, before.query);
    assert.equal(maps.body, before.maps);
    assert.equal(batched.body, before.batch);
    assert.equal(compacted.body, before.compact);
    const after = (await get('/metrics')).body;
    // Every acquisition is observed: the queued query's, and the compact batch's one per
    // address (its first one queued, the others after it).
    assert.equal(mmapReadWaits(after, 'mmap_lock'), waitsBefore + 1 + 4);
    const state = mmapLockState(mm.i32, SYNC_WORDS_BASE);
    assert.deepEqual(state, {
      readers: 0,
      blockedReaders: 0,
      waitingWriters: 0,
      writerHeld: false,
    });
    // The writer side still works (no RCU read section or lock was left behind by the readers).
    const brk = await app.inject({
      method: 'POST',
      url: `/proc/${pid}/syscalls`,
      payload: {
        calls: [
          {
            op: 'mmap',
            addr: '0x0',
            length: '0x1000',
            prot: 'rw-',
            flags: ['private', 'anonymous'],
          },
        ],
      },
    });
    assert.equal(brk.statusCode, 200, brk.body);
    assert.notEqual((await get(mapsUrl)).body, before.maps);
  } finally {
    await app.close();
  }
});
