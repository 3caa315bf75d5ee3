/**
 * Diagnostic: what the idle default server costs while its start-up population is busy (no
 * requests but the few samples): the process's CPU (all threads, /proc/PID/stat) as a share of
 * one core, and divided by the simulated activity calls made meanwhile (the busy processes'
 * `calls` counters), in a window right after /healthz answers and in a later one. Before the
 * shared activity thread (activity-host.ts) the idle server took ~25 % of a core in its first
 * 10 s and ~10 % after a minute, ~100 µs and ~60 µs per call.
 */
import { sampleCpu } from '../http/server-cpu.js';
import { freePort, startServer, stop } from '../lib/processes.js';

export interface IdleWindow {
  fromS: number;
  toS: number;
  /** Server CPU as a share of one core. */
  coreShare: number;
  /** Simulated activity calls per second. */
  callsPerS: number;
  /** Server CPU µs per simulated activity call (every thread's, not only the activity's). */
  cpuUsPerCall: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function json(url: string): Promise<unknown> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

/** Measures the default server over `windows` ([from, to] seconds after /healthz answered). */
export async function idleActivityCost(windows: Array<[number, number]>): Promise<IdleWindow[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer(
    ['dist/src/server.js', '--port', String(port)],
    `${base}/healthz`,
  );
  const t0 = performance.now();
  try {
    const pid = server.pid as number;
    const list = (await json(`${base}/processes?limit=1000`)) as { processes: { pid: number }[] };
    const busy: number[] = [];
    for (const p of list.processes) {
      const info = (await json(`${base}/processes/${p.pid}`)) as { activity: unknown };
      if (info.activity !== null) busy.push(p.pid);
    }
    const sample = async (atS: number) => {
      const wait = atS * 1000 - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
      let calls = 0;
      for (const p of busy) {
        calls += ((await json(`${base}/processes/${p}/activity`)) as { calls: number }).calls;
      }
      return { cpuUs: sampleCpu(pid).processUs, calls, at: performance.now() };
    };
    const out: IdleWindow[] = [];
    for (const [fromS, toS] of windows) {
      const a = await sample(fromS);
      const b = await sample(toS);
      const seconds = (b.at - a.at) / 1000;
      const calls = b.calls - a.calls;
      out.push({
        fromS,
        toS,
        coreShare: (b.cpuUs - a.cpuUs) / (seconds * 1e6),
        callsPerS: calls / seconds,
        cpuUsPerCall: calls > 0 ? (b.cpuUs - a.cpuUs) / calls : Number.NaN,
      });
    }
    return out;
  } finally {
    await stop(server);
  }
}
