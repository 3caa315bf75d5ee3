/**
 * File-descriptor limits for the connection storm: 1,000 sockets at once need more than the
 * 1,024 descriptors many shells start with. Node cannot call setrlimit, so a child is started
 * through `sh -c 'ulimit -n N; exec node …'` (raising the soft limit up to the hard one), and
 * reports the limit it got on stderr (`fd-limit N`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { repoRoot } from '../lib/processes.js';

export interface FdLimits {
  soft: number;
  hard: number;
}

const parseLimit = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));

/** This process's RLIMIT_NOFILE, from /proc/self/limits. */
export function fdLimits(pid: number | 'self' = 'self'): FdLimits {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const m = line ? /Max open files\s+(\S+)\s+(\S+)/.exec(line) : null;
  if (!m) throw new Error('no "Max open files" in /proc/self/limits');
  return { soft: parseLimit(m[1]), hard: parseLimit(m[2]) };
}

/** Open descriptors of a process (Linux). */
export function openFds(pid: number | 'self' = 'self'): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Spawns `node args…` in the repo with its soft fd limit raised to at least `want` (or the hard limit). */
export function spawnNodeWithFdLimit(want: number, args: string[]): ChildProcess {
  const script =
    `n=$(ulimit -n); if [ "$n" != unlimited ] && [ "$n" -lt ${want} ]; then ` +
    `ulimit -n ${want} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; fi; ` +
    'echo "fd-limit $(ulimit -n)" >&2; exec "$@"';
  return spawn('sh', ['-c', script, 'sh', process.execPath, ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first match of `re` in the child's stdout, or rejects when it exits first. */
export function waitForOutput(
  child: ChildProcess,
  re: RegExp,
  deadlineMs: number,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => done(new Error(`no ${re} within ${deadlineMs} ms: ${err}`)),
      deadlineMs,
    );
    const onOut = (d: Buffer) => {
      out += d;
      const m = out.match(re);
      if (m) {
        done(null, m);
        child.stdout?.resume(); // keep draining: a full pipe would stall the child
      }
    };
    const onErr = (d: Buffer) => {
      err += d;
    };
    const onExit = (code: number | null) =>
      done(new Error(`exited (${code}) before ${re}: ${err}`));
    function done(e: Error | null, m?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.off('exit', onExit);
      if (e) reject(e);
      else resolve(m!);
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

/** The `fd-limit N` line a child started by spawnNodeWithFdLimit printed. */
export function reportedFdLimit(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d;
      const m = /fd-limit (\S+)/.exec(err);
      if (m) resolve(parseLimit(m[1]));
    });
  });
}
