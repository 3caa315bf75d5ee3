/**
 * The /ws fuzzer: fast-check messages for every op of the protocol (the request ops and every
 * syscall op, from the server's own lists, plus subscribe/unsubscribe) with the same hostile
 * values as the HTTP fuzzer, and malformed frames (bad JSON, binary, prototype names as ops,
 * wrong id types). Every message gets exactly one reply on a connection that stays open; error
 * replies are in the errno shape; the victim's maps are unchanged after every error reply (with
 * the partial-application exceptions of Linux, bench/robustness/hostile-client.ts). Seeded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { WebSocket } from 'ws';
import { type FuzzFixture, fuzzFixture, fuzzSeed } from '../../bench/robustness/fuzz-fixture.js';
import { sendWs, WS_FUZZED_OPS, WsReplies, wsMessages } from '../../bench/robustness/ws-fuzz.js';
import { SYSCALL_OPS } from '../../src/schemas/syscalls.js';
import { REQUEST_OPS } from '../../src/schemas/ws-protocol.js';

const SEED = fuzzSeed();
const RUNS = Number(process.env.FUZZ_RUNS ?? 60) * 15;

describe('WebSocket fuzz over every op', () => {
  let fx: FuzzFixture;
  let socket: WebSocket;
  let replies: WsReplies;
  before(async () => {
    fx = await fuzzFixture();
    socket = await fx.app.injectWS('/ws', { headers: { host: 'localhost' } });
    replies = new WsReplies(socket);
    console.log(`# ws fuzz seed ${SEED}, ${RUNS} messages (FUZZ_SEED, FUZZ_RUNS)`);
  });
  after(async () => {
    const t = fx.client.tally;
    console.log(
      `# ${t.tried} ws messages: ${JSON.stringify(t.classes)}; victim checked unchanged after ${t.unchangedChecks} error replies, ${t.partialErrors} partial errors (as Linux)`,
    );
    socket.terminate();
    await fx.close();
  });

  test("the fuzzed ops are the protocol's ops", () => {
    assert.deepEqual(new Set(WS_FUZZED_OPS), new Set([...REQUEST_OPS, ...SYSCALL_OPS]));
  });

  test('hostile messages: one reply each, errno shape, nothing changed by a refused request', async () => {
    const sentOps = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(wsMessages(fx.shapes), async (m) => {
        sentOps.set(m.op, (sentOps.get(m.op) ?? 0) + 1);
        const v = await sendWs(fx.client, replies, m);
        if (v) throw new Error(v);
        if (replies.closed)
          throw new Error(`the server closed the socket (${replies.closed.code})`);
      }),
      { seed: SEED, numRuns: RUNS, includeErrorInReport: true },
    );
    assert.deepEqual(fx.client.tally.violations, []);
    const unsent = WS_FUZZED_OPS.filter((op) => !sentOps.has(op));
    assert.deepEqual(unsent, [], 'every op was fuzzed');
    assert.ok(fx.client.tally.classes['2xx'] > 0 && fx.client.tally.unchangedChecks > 0);
  });
});
