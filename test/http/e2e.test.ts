/**
 * End to end: the real server (dist/src/server.js) on a loopback port runs every curl example of
 * README.md as an HTTP request, then a real WebSocket client session (package `ws`).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { curlLines, parseCurl } from './curl-examples.js';
import { type RunningServer, repoRoot, startServer, stopServer } from './server-process.js';

const GATE_LINE =
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n';

/** With the engine on worker CPUs (the default) and on the event loop (`--cpus 0`). */
for (const cpus of ['2', '0'])
  describe(`e2e: the real server, --cpus ${cpus}`, () => {
    let server: RunningServer;
    before(async () => {
      // Overload 503s (a loaded CI machine can lag the loop) are tested in errors.test.ts.
      server = await startServer([
        ...['--cpus', cpus, '--population', '8', '--log-level', 'info'],
        ...['--max-event-loop-delay-ms', '0'],
      ]);
    });
    after(async () => {
      assert.equal(await stopServer(server), 0);
    });

    test('every curl example of README.md works as documented', async () => {
      const doc = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
      const lines = curlLines(doc);
      assert.ok(lines.length >= 25, `only ${lines.length} examples found`);
      const vars: Record<string, string> = {};
      for (const line of lines) {
        const ex = parseCurl(line, vars, server.base);
        const res = await fetch(ex.url, { method: ex.method, headers: ex.headers, body: ex.body });
        const text = await res.text();
        if (ex.expectStatus !== null) {
          assert.equal(res.status, ex.expectStatus, `${line}\n→ ${res.status} ${text}`);
          const err = JSON.parse(text);
          assert.equal(typeof err.error, 'string');
          assert.equal(typeof err.errno, 'number');
        } else {
          assert.ok(res.status < 400, `${line}\n→ ${res.status} ${text}`);
        }
        if (ex.capture) {
          const value = JSON.parse(text)[ex.capture.field];
          assert.ok(value !== undefined, `${line}: no ${ex.capture.field} in ${text}`);
          vars[ex.capture.variable] = String(value);
        }
      }
      assert.ok(vars.PID && vars.ADDR, 'the examples set PID and ADDR');
    });

    test('the population is served: pid 1 is a bash whose maps end with [vsyscall]', async () => {
      const list = (await (await fetch(`${server.base}/processes?limit=100`)).json()) as {
        total: number;
        processes: Array<{ pid: number; comm: string; vmas: number }>;
      };
      assert.ok(list.total >= 8);
      const p1 = list.processes.find((p) => p.pid === 1)!;
      assert.equal(p1.comm, 'bash');
      const maps = await (await fetch(`${server.base}/proc/1/maps`)).text();
      assert.ok(maps.endsWith(GATE_LINE));
      assert.equal(maps.split('\n').length - 1, p1.vmas + 1);
    });

    test('a WebSocket session: subscribe, see an HTTP mutation, RPC', async () => {
      const created = (await (
        await fetch(`${server.base}/processes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ template: 'minimal' }),
        })
      ).json()) as { pid: number };
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      const messages: Array<Record<string, unknown>> = [];
      const waiters: Array<() => void> = [];
      ws.on('message', (d) => {
        messages.push(JSON.parse(d.toString()));
        waiters.shift()?.();
      });
      const next = async () => {
        if (messages.length === 0) await new Promise<void>((r) => waiters.push(r));
        return messages.shift()!;
      };
      await once(ws, 'open');
      ws.send(JSON.stringify({ subscribe: 'events', pid: created.pid }));
      assert.equal((await next()).type, 'subscribed');
      const mm = await fetch(`${server.base}/proc/${created.pid}/mmap`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ length: '0x2000', prot: 'rw-', flags: ['private', 'anonymous'] }),
      });
      const { addr } = (await mm.json()) as { addr: string };
      const event = await next();
      assert.equal(event.type, 'mutation');
      assert.equal(event.pid, created.pid);
      assert.equal(event.op, 'mmap');
      assert.deepEqual(event.result, { addr });
      ws.send(JSON.stringify({ id: 1, op: 'maps', pid: created.pid }));
      const reply = await next();
      assert.equal(reply.id, 1);
      const http = await (await fetch(`${server.base}/proc/${created.pid}/maps`)).text();
      assert.equal(reply.result, http);
      ws.send(JSON.stringify({ id: 2, op: 'procmap_query', pid: created.pid, addr }));
      const q = (await next()).result as { vma_start: string; vma_end: string };
      // The new mapping may have merged with a neighbour: it is covered, not necessarily the start.
      assert.ok(BigInt(q.vma_start) <= BigInt(addr) && BigInt(addr) < BigInt(q.vma_end));
      const line = `${q.vma_start.slice(2)}-${q.vma_end.slice(2)} rw-p`;
      assert.ok(http.includes(line), `${line} not in\n${http}`);
      ws.close();
      await once(ws, 'close');
    });
  });
