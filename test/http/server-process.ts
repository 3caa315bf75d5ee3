/**
 * Starts the real server (dist/src/server.js, the file `npm start` runs) as a child process on a
 * free loopback port, and finds the repo root (for docs/). Used by the e2e and shutdown tests,
 * which run from dist/ (npm test builds first).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test');
    dir = up;
  }
  return dir;
}

export interface RunningServer {
  child: ChildProcess;
  base: string;
  port: number;
  /** JSON log lines seen so far. */
  logs: Array<Record<string, unknown>>;
  exited: Promise<number | null>;
  /**
   * Resolves with the first log line (seen so far or later) whose `msg` matches `re`; rejects
   * after `timeoutMs` or when the server exits first. Log lines travel through a pipe, so an
   * effect the client can observe (a closed listener) may arrive before the line that announced it.
   */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Spawns the server with `args` and resolves once it logs that it is listening. */
export async function startServer(args: string[]): Promise<RunningServer> {
  const server = join(repoRoot(), 'dist', 'src', 'server.js');
  const child = spawn(process.execPath, [server, '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const logWaiters = new Set<(entry: Record<string, unknown>) => void>();
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      for (const w of logWaiters) w(entry);
      const m = /listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(String(entry.msg));
      if (m) resolve(Number(m[1]));
    });
    exited.then((code) => reject(new Error(`server exited (${code}) before listening: ${stderr}`)));
  });
  const waitForLog = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = logs.find((l) => re.test(String(l.msg)));
      if (seen) return resolve(seen);
      const done = (err: Error | null, entry?: Record<string, unknown>) => {
        clearTimeout(timer);
        logWaiters.delete(onLine);
        if (err) reject(err);
        else resolve(entry!);
      };
      const onLine = (entry: Record<string, unknown>) => {
        if (re.test(String(entry.msg))) done(null, entry);
      };
      const timer = setTimeout(
        () => done(new Error(`no log line matching ${re} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      logWaiters.add(onLine);
      exited.then(() => {
        if (logWaiters.has(onLine)) done(new Error(`server exited before logging ${re}`));
      });
    });
  return { child, base: `http://127.0.0.1:${port}`, port, logs, exited, waitForLog };
}

export async function stopServer(s: RunningServer): Promise<number | null> {
  if (s.child.exitCode === null) s.child.kill('SIGTERM');
  return s.exited;
}
