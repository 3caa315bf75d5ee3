/**
 * How long one hostile request (or a crowd of /ws event subscribers) stalls the event loop of the
 * real server (issue 11 finding 7). Starts dist/src/server.js, then for each case polls /healthz
 * every 10 ms while the case runs and prints the case's own time, its answer, and the worst
 * /healthz latency seen meanwhile. Not a timed test: a probe to run by hand, before and after a
 * change, on the same machine (`node dist/bench/http/stall-probe.js [--subscribers N]`).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const serverJs = join(here, '..', '..', 'src', 'server.js');

async function startServer(extra: string[], nodeArgs: string[]) {
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      serverJs,
      '--port',
      '0',
      '--cpus',
      '1',
      '--population',
      '2',
      '--max-event-loop-delay-ms',
      '0',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { child, base: `http://127.0.0.1:${port}`, port };
}

/** Polls /healthz until `stop()`; resolves with the worst latency in ms. */
function pollHealth(base: string) {
  let stopped = false;
  let worst = 0;
  const done = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      try {
        await (await fetch(`${base}/healthz`)).arrayBuffer();
      } catch {
        // a refused poll still counts its time
      }
      worst = Math.max(worst, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 10));
    }
    return worst;
  })();
  return {
    stop: async () => {
      stopped = true;
      return done;
    },
  };
}

/** `post` with its body built up front, so building it does not delay this process's poll. */
function prepared(base: string, path: string, body: () => string): () => Promise<string> {
  const text = body();
  return () => post(base, path, text);
}

async function probe(base: string, name: string, prepare: () => () => Promise<string>) {
  const run = prepare();
  const health = pollHealth(base);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  const answer = await run().catch((e: Error) => `failed: ${e.message}`);
  const ms = performance.now() - t0;
  const worst = await health.stop();
  console.log(
    `${name.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  healthz worst ${worst.toFixed(0).padStart(6)} ms  ${answer.slice(0, 90)}`,
  );
}

async function post(base: string, path: string, body: string) {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return `${r.status} ${(await r.text()).replace(/\s+/g, ' ')}`;
}

/**
 * Worker-thread side: opens `n` /ws connections, subscribes each to events, counts what arrives
 * until told to stop. In a thread of its own, so that receiving does not delay the /healthz poll.
 */
async function subscriberThread(port: number, n: number) {
  const sockets: WebSocket[] = [];
  const counts = { open: 0, events: 0, refused: 0 };
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    ws.on('message', (d) => {
      const s = d.toString();
      if (s.startsWith('{"type":"mutation"')) counts.events++;
      else if (s.includes('"error"')) counts.refused++;
    });
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
    });
    if (!opened) break;
    counts.open++;
    ws.send('{"subscribe":"events"}');
    sockets.push(ws);
  }
  parentPort?.postMessage('subscribed');
  parentPort?.once('message', () => {
    for (const ws of sockets) ws.terminate();
    parentPort?.postMessage(counts);
  });
}

async function subscribers(base: string, port: number, n: number, seconds: number) {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { port, n } });
  await new Promise((r) => worker.once('message', r));
  await fetch(`${base}/processes/1/activity`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ profile: 'mmap_churn', rate_per_s: 20000 }),
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  await fetch(`${base}/processes/1/activity`, { method: 'DELETE' });
  worker.postMessage('stop');
  const c = (await new Promise((r) => worker.once('message', r))) as Record<string, number>;
  await worker.terminate();
  return `${c.open} open, ${c.events} events delivered, ${c.refused} subscriptions refused`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '100' },
      only: { type: 'string', default: '' },
      'node-args': { type: 'string', default: '' },
      args: { type: 'string', default: '' },
    },
  });
  const words = (v: string | undefined) => (v ? v.split(' ') : []);
  const server = await startServer(words(values.args), words(values['node-args']));
  const { base, port } = server;
  const digits = () => '1'.repeat(15_000_000);
  const deep = () => `${'['.repeat(8_000_000)}${']'.repeat(8_000_000)}`;
  const calls = (entry: unknown) => JSON.stringify({ calls: Array(65_536).fill(entry) });
  const n = Number(values.subscribers);
  const sys = (body: () => string) => () => prepared(base, '/proc/1/syscalls', body);
  const munmap = (body: () => string) => () => prepared(base, '/proc/1/munmap', body);
  const cases: Array<[string, () => () => Promise<string>]> = [
    [
      '/syscalls 65,536 invalid entries',
      sys(() => calls({ op: 'mmap', length: 'x', prot: 'rw-' })),
    ],
    ['/syscalls 65,536 unknown ops', sys(() => calls({ op: 'nope' }))],
    [
      '/syscalls 65,536 valid munmaps',
      sys(() => calls({ op: 'munmap', addr: '0x1000', length: '0x1000' })),
    ],
    ['munmap 15M-digit decimal string', munmap(() => `{"addr":"${digits()}","length":"0x1000"}`)],
    ['munmap 15M-digit JSON number', munmap(() => `{"addr":${digits()},"length":"0x1000"}`)],
    ['syscalls 16 MB nested array', sys(() => `{"calls":${deep()}}`)],
    ['munmap 16 MB nested array', munmap(deep)],
    [`${n} /ws event subscribers, mmap_churn 3 s`, () => () => subscribers(base, port, n, 3)],
  ];
  try {
    for (const [name, run] of cases) {
      if (name.includes(values.only ?? '')) await probe(base, name, run);
    }
  } finally {
    server.child.kill('SIGTERM');
  }
}

if (isMainThread) await main();
else await subscriberThread(workerData.port, workerData.n);
