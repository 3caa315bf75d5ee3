/**
 * 1,000 connections at once against the real service (dist/src/server.js on port 0, worker
 * CPUs): every connection gets a complete answer before its deadline — served, or shed with 503
 * EBUSY and `Retry-After` by the overload guard — none hangs, none is reset, and the server's
 * open descriptors come back to where they were. Server and client run as children with their
 * fd limit raised (`ulimit -n`); the test prints the limits it found and got.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fdLimits } from '../../bench/robustness/fd-limit.js';
import { runConnectionStorm } from '../../bench/robustness/storm-run.js';

const CONNECTIONS = 1000;
const DEADLINE_MS = 60_000;

test('1,000 connections at once: each answered or shed with Retry-After, none hung, no fd left', async () => {
  const own = fdLimits();
  const r = await runConnectionStorm({
    connections: CONNECTIONS,
    deadlineMs: DEADLINE_MS,
    // A short event-loop-delay limit, so the storm may be shed in part: both outcomes are fine.
    serverArgs: ['--max-event-loop-delay-ms', '200', '--log-level', 'info'],
  });
  console.log(
    `# fd limit of this process: soft ${own.soft}, hard ${own.hard}; server child ${r.serverFdLimit}, client child ${r.clientFdLimit}`,
  );
  console.log(
    `# ${r.connections} connections: ${r.answered} answered, ${r.shed} shed (503 + Retry-After), ${r.failed} failed, ${r.hung} hung; statuses ${JSON.stringify(r.statuses)}; slowest ${r.slowestMs.toFixed(0)} ms; server fds ${r.serverFdsBefore} → ${r.serverFdsAfter}`,
  );
  assert.ok(
    r.clientFdLimit > CONNECTIONS && r.serverFdLimit > CONNECTIONS,
    'could not raise the fd limit above 1,000 (hard limit too low)',
  );
  assert.equal(r.hung, 0, 'connections hung');
  assert.equal(r.failed, 0, `connections failed: ${JSON.stringify(r.statuses)}`);
  assert.equal(r.answered + r.shed, CONNECTIONS);
  assert.ok(
    r.serverFdsAfter <= r.serverFdsBefore + 8,
    `server fds ${r.serverFdsBefore} → ${r.serverFdsAfter}`,
  );
});
