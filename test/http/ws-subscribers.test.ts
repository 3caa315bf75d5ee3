/**
 * /ws event fan-out (issue 11 finding 7): at most `--ws-max-subscribers` event subscriptions at
 * once (one more answers EAGAIN, and a freed slot can be taken again), and each event is
 * serialised once for all subscribers and handed over a burst at a time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SimApi } from '../../src/cpus/sim-api.js';
import { EventFanout } from '../../src/plugins/app/event-fanout.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';
import { Client } from './ws-client.js';

const munmap = { op: 'munmap' as const, addr: 0x1000, length: 0x1000 };

describe('event fan-out', () => {
  test('one Buffer per event for every subscriber, a burst per sink call, pid filter', async () => {
    const sim = new FakeSim([1, 2]);
    const fanout = new EventFanout(sim as unknown as SimApi, 3);
    const got: Array<readonly Buffer[]> = [[], [], []].map(() => []);
    const bursts = [0, 0, 0];
    const sink = (i: number) => (frames: readonly Buffer[]) => {
      got[i] = [...got[i], ...frames];
      bursts[i]++;
    };
    const stops = [fanout.subscribe(undefined, sink(0)), fanout.subscribe(undefined, sink(1))];
    stops.push(fanout.subscribe(2, sink(2)));
    assert.equal(
      fanout.subscribe(undefined, () => {}),
      null,
      'a fourth is refused',
    );
    sim.emit({ pid: 1, call: munmap, result: 0 });
    sim.emit({ pid: 2, call: munmap, result: 0 });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(bursts, [1, 1, 1]);
    assert.equal(got[0].length, 2);
    assert.equal(got[0][0], got[1][0], 'the same Buffer, serialised once');
    assert.equal(got[0][1], got[2][0]);
    assert.equal(got[2].length, 1);
    assert.deepEqual(JSON.parse(got[2][0].toString()), {
      type: 'mutation',
      pid: 2,
      op: 'munmap',
      args: { addr: '0x1000', length: '0x1000' },
      result: {},
    });
    stops[0]?.();
    assert.equal(fanout.size, 2);
    assert.notEqual(
      fanout.subscribe(undefined, () => {}),
      null,
      'a freed slot is taken again',
    );
  });
});

describe('/ws --ws-max-subscribers', () => {
  test('one subscription too many answers EAGAIN; closing one frees its slot', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { wsMaxSubscribers: 2 });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `ws://127.0.0.1:${(app.server.address() as { port: number }).port}/ws`;
    const clients: Client[] = [];
    try {
      for (let i = 0; i < 3; i++) clients.push(await new Client(url).open());
      const [a, b, c] = clients;
      const subscribed = { type: 'subscribed', subscribe: 'events', pid: null };
      a.send({ subscribe: 'events' });
      assert.deepEqual(await a.next(), subscribed);
      a.send({ subscribe: 'events' }); // again on the same socket: still one slot
      assert.deepEqual(await a.next(), subscribed);
      b.send({ subscribe: 'events' });
      assert.deepEqual(await b.next(), subscribed);
      c.send({ subscribe: 'events' });
      const refused = await c.next();
      assert.equal(refused.type, 'error');
      assert.equal(refused.error, 'EAGAIN');
      assert.equal(refused.errno, 11);
      assert.equal(refused.subscribe, 'events');
      assert.match(String(refused.message), /ws-max-subscribers/);
      // Requests still work on the refused socket; events do not come to it.
      c.send({ id: 1, op: 'config' });
      assert.equal((await c.next()).id, 1);
      await a.close();
      // The server sees the close asynchronously: wait for the slot to be free (bounded).
      const deadline = Date.now() + 10_000;
      while (app.eventFanout.size > 1) {
        assert.ok(Date.now() < deadline, 'the closed subscriber never freed its slot');
        await new Promise((r) => setImmediate(r));
      }
      c.send({ subscribe: 'events' });
      assert.deepEqual(await c.next(), subscribed);
      await app.inject({
        method: 'POST',
        url: '/proc/1/munmap',
        payload: { addr: 4096, length: 4096 },
      });
      assert.equal((await b.next()).type, 'mutation');
      assert.equal((await c.next()).type, 'mutation');
    } finally {
      for (const cl of clients) await cl.close();
      await app.close();
    }
  });
});
