/**
 * A child process that a test starts and must always end: its output is kept (the tail, for
 * failure messages), `stop()` sends SIGTERM and escalates to SIGKILL, and a process 'exit'
 * handler kills it even if the test runner is torn down without running `after` hooks.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const OUTPUT_TAIL_BYTES = 8192;
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class ManagedChild {
  readonly name: string;
  private readonly child: ChildProcess;
  private tail = '';
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<string>;

  constructor(name: string, command: string, args: readonly string[], cwd: string) {
    this.name = name;
    this.child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      const done = (how: string) => {
        live.delete(this.child);
        resolve(how);
      };
      this.child.once('exit', (code, signal) => done(signal ?? `code ${code}`));
      this.child.once('error', (err) => done(`spawn error: ${err.message}`));
    });
  }

  /** True while the process has not exited. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && live.has(this.child);
  }

  /** The last few KiB of its stdout and stderr, for assertion messages. */
  output(): string {
    return `--- ${this.name} output (tail) ---\n${this.tail}`;
  }

  /** SIGKILL (a crash, as `kill -9`); resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves once it is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const escalate = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, escalate]);
    clearTimeout(timer);
    await this.exited;
  }
}
