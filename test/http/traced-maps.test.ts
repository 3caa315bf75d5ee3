/**
 * `/ws` `{"op":"maps","chunks":true}` (the page's "read maps now"), on a worker CPU and on the
 * event loop (both run the same strategies): per chunk its
 * bytes and lines, and what that chunk's lock window took. With one line per chunk the counts
 * are deterministic without any writer: `lockless` falls back to the mmap read lock exactly on
 * the VMA with an anon name (`fancy_vma`), `mmap_lock` takes the mmap read lock once per chunk,
 * `snapshot` makes one speculation attempt per line. Without `chunks` the answer stays the text.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { Sim } from '../../src/cpus/sim.js';
import { appWith } from './helpers.js';

const TEXT = [
  '00400000-00401000 r--p 00000000 fe:00 1234                               /usr/bin/demo',
  '00401000-00402000 r-xp 00001000 fe:00 1234                               /usr/bin/demo',
  '7f0000000000-7f0000004000 rw-p 00000000 00:00 0                          [anon:jit]',
  '7f0000010000-7f0000014000 rw-p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  '',
].join('\n');

interface Chunk {
  bytes: number;
  lines: number;
  attempts: number;
  fallback_fancy_vma: number;
  fallback_contention: number;
  mmap_locks: number;
  retries: number;
}

for (const cpus of [1, 0])
  describe(`/ws traced maps read, --cpus ${cpus}`, () => {
    let sim: Sim;
    let app: FastifyInstance;
    let ws: WebSocket;
    let pid: number;
    let nextId = 1;

    const request = async (msg: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const id = nextId++;
      ws.send(JSON.stringify({ id, ...msg }));
      for (;;) {
        const [data] = await once(ws, 'message');
        const m = JSON.parse(String(data));
        if (m.id === id) return m;
      }
    };

    before(async () => {
      sim = await Sim.start({
        strategy: 'per_vma',
        cpus,
        maxProcesses: 4,
        maxVmasPerProcess: 65_530,
        maxBatch: 64,
        population: 0,
      });
      pid = (await sim.createProcess({ comm: 'demo', maps: TEXT })).pid;
      app = await appWith(sim);
      await app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = app.server.address() as { port: number };
      ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await once(ws, 'open');
    });
    after(async () => {
      ws?.close();
      await app?.close();
    });

    const traced = async (strategy: string) => {
      // chunk = 100 bytes: every line is 81..92 bytes, so one line per chunk.
      const m = await request({ op: 'maps', pid, strategy, chunk: 100, chunks: true });
      const r = m.result as { text: string; chunks: Chunk[] };
      assert.equal(r.text, TEXT);
      assert.equal(r.chunks.length, 6);
      assert.deepEqual(
        r.chunks.map((c) => c.bytes),
        TEXT.split('\n')
          .slice(0, 6)
          .map((l) => l.length + 1),
      );
      assert.ok(r.chunks.every((c) => c.lines === 1));
      return r.chunks;
    };

    test('lockless: the anon-named VMA falls back (fancy_vma), the others do not', async () => {
      const chunks = await traced('lockless');
      // Chunk 2 prints [anon:jit]; chunk 1 formatted it too, as the line that did not fit (seq_file
      // produces the overflowing record, then drops it and starts the next read() with it).
      assert.deepEqual(
        chunks.map((c) => c.fallback_fancy_vma),
        [0, 1, 1, 0, 0, 0],
      );
      assert.ok(chunks.every((c) => c.retries === 0 && c.fallback_contention === 0));
    });

    test('mmap_lock: one mmap read lock per chunk, no speculation', async () => {
      const chunks = await traced('mmap_lock');
      assert.deepEqual(
        chunks.map((c) => [c.mmap_locks, c.attempts, c.fallback_fancy_vma]),
        chunks.map(() => [1, 0, 0]),
      );
    });

    test('snapshot: speculation attempts are counted per chunk', async () => {
      const chunks = await traced('snapshot');
      assert.ok(
        chunks.slice(0, 5).every((c) => c.attempts >= 1),
        JSON.stringify(chunks),
      );
    });

    test('without chunks the answer is the text, as before', async () => {
      const m = await request({ op: 'maps', pid, chunk: 100 });
      assert.equal(m.result, TEXT);
      const bad = await request({ op: 'maps', pid, chunks: 'yes' });
      assert.equal((bad as { error?: string }).error, 'EINVAL');
    });
  });
