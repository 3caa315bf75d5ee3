/**
 * Child processes for the HTTP benchmarks: start a server and wait for its port, run autocannon
 * as a separate process (so the load generator does not share the server's event loop), and
 * always clean up.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Spawns `node args…` (output discarded) and resolves once `url` answers 200. */
export async function startServer(args: string[], url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Bounded: 600 polls of at most 100 ms each.
  for (let i = 0; i < 600 && !exited; i++) {
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${args.join(' ')} did not answer ${url}${exited ? ' (it exited)' : ''}`);
}

/** Spawns `node args…` and resolves once its stdout matches `ready` (with the match). */
export function startNode(
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, match: m });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.resume();
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}): ${out}`)));
  });
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

export interface CannonResult {
  rps: number;
  /** Requests completed in the run. */
  total: number;
  p99ms: number;
  errors: number;
  non2xx: number;
  /** Answers by status code, e.g. {"200": 5120, "503": 3}. */
  statuses: Record<string, number>;
}

/** What one autocannon run sends: one request (method, body), or GETs of `paths` in turn. */
export interface CannonOptions {
  method?: string;
  body?: string;
  /** GET these paths (of the origin `url`) in turn instead of `url` itself. */
  paths?: readonly string[];
}

/** autocannon (separate process) against `url` for `seconds`, `connections` connections. */
export function autocannon(
  url: string,
  seconds: number,
  connections: number,
  opts: CannonOptions = {},
): Promise<CannonResult> {
  let args: string[];
  if (opts.paths !== undefined) {
    // GETs of each path in turn: `url` is the origin (bench/http/cannon-paths.ts).
    const runner = path.join(repoRoot, 'dist/bench/http/cannon-paths.js');
    args = [runner, url, String(connections), String(seconds), JSON.stringify(opts.paths)];
  } else {
    const bin = path.join(repoRoot, 'node_modules/autocannon/autocannon.js');
    args = [bin, '-j', '-c', String(connections), '-d', String(seconds)];
    if (opts.method) args.push('-m', opts.method);
    if (opts.body !== undefined) args.push('-H', 'content-type=application/json', '-b', opts.body);
    args.push(url);
  }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 64 << 20 }, (err, stdout) => {
      if (err) return reject(err);
      const j = JSON.parse(stdout);
      resolve({
        rps: j.requests.average,
        total: j.requests.total,
        p99ms: j.latency.p99,
        errors: j.errors,
        non2xx: j.non2xx,
        statuses: Object.fromEntries(
          Object.entries((j.statusCodeStats ?? {}) as Record<string, { count: number }>).map(
            ([code, v]) => [code, v.count],
          ),
        ),
      });
    });
  });
}
