/**
 * The whole connection-storm experiment, for the test and the bench: the real service
 * (dist/src/server.js, worker CPUs, port 0) and the storm client (connection-storm.ts) each in a
 * child whose fd limit is raised for 1,000 sockets. The server's open descriptors are counted
 * before and after: once every client has its answer they must come back to the baseline (no
 * socket left behind).
 */
import type { ChildProcess } from 'node:child_process';
import type { StormResult } from './connection-storm.js';
import { openFds, reportedFdLimit, spawnNodeWithFdLimit, waitForOutput } from './fd-limit.js';

export interface StormRun extends StormResult {
  serverFdLimit: number;
  clientFdLimit: number;
  serverFdsBefore: number;
  /** Open descriptors after the storm, once back within 8 of the baseline or after 10 s. */
  serverFdsAfter: number;
}

/** Descriptors a process needs beyond its sockets (stdio, epoll, workers' pipes, …). */
const FD_HEADROOM = 512;

function stopped(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Polls `fn` until it returns true or `deadlineMs` passes (a condition, not a sleep). */
async function until(fn: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!fn() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

export async function runConnectionStorm(opts: {
  connections: number;
  deadlineMs: number;
  /** Extra server flags (e.g. `--max-event-loop-delay-ms`). */
  serverArgs?: string[];
}): Promise<StormRun> {
  const want = opts.connections + FD_HEADROOM;
  const server = spawnNodeWithFdLimit(want, [
    'dist/src/server.js',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--population',
    '4',
    '--cpus',
    '2',
    ...(opts.serverArgs ?? []),
  ]);
  try {
    const serverFdLimit = reportedFdLimit(server);
    const [, port] = await waitForOutput(
      server,
      /listening at http:\/\/127\.0\.0\.1:(\d+)/,
      60_000,
    );
    const pid = server.pid!;
    const serverFdsBefore = openFds(pid);
    const client = spawnNodeWithFdLimit(want, [
      'dist/bench/robustness/connection-storm.js',
      port,
      String(opts.connections),
      String(opts.deadlineMs),
    ]);
    const clientFdLimit = reportedFdLimit(client);
    const [line] = await waitForOutput(client, /\{.*\}\n/, opts.deadlineMs + 60_000);
    await stopped(client);
    const result = JSON.parse(line) as StormResult;
    await until(() => openFds(pid) <= serverFdsBefore + 8, 10_000);
    return {
      ...result,
      serverFdLimit: await serverFdLimit,
      clientFdLimit: await clientFdLimit,
      serverFdsBefore,
      serverFdsAfter: openFds(pid),
    };
  } finally {
    await stopped(server);
  }
}
