/**
 * A short, bounded HTTP load for the deploy e2e test: `workers` fetch loops reading maps and
 * PROCMAP_QUERY of the busy processes under every strategy in turn (`?strategy=`), with a
 * mutation pair and a read of an exited pid (an expected 404 ESRCH, so the error panels have
 * data) every few iterations. It runs until stopped; `stop()` waits for in-flight requests.
 */

export interface LoadPlan {
  baseUrl: string;
  /** Processes to read (busy ones, so speculative readers meet a changing address space). */
  readPids: readonly number[];
  /** An idle process the load mmaps and munmaps in. */
  mutatePid: number;
  /** A pid that has exited: reading it must answer 404. */
  exitedPid: number;
  strategies: readonly string[];
  workers: number;
  /**
   * One more loop reading this pid's whole maps in one lock window (`?chunk=0`) under this
   * strategy, back to back: where speculation retries come from (see the dashboard test).
   */
  speculative?: { pid: number; strategy: string };
}

export interface LoadReport {
  requests: number;
  /** `what -> count` of responses whose status was not the expected one. */
  unexpected: Map<string, number>;
}

export class ReadLoad {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly report: LoadReport = { requests: 0, unexpected: new Map() };

  constructor(private readonly plan: LoadPlan) {}

  start(): void {
    for (let w = 0; w < this.plan.workers; w++) this.loops.push(this.loop(w));
    const spec = this.plan.speculative;
    if (spec) this.loops.push(this.speculativeLoop(spec.pid, spec.strategy));
  }

  private async speculativeLoop(pid: number, strategy: string): Promise<void> {
    const url = `${this.plan.baseUrl}/proc/${pid}/maps?strategy=${strategy}&chunk=0`;
    while (!this.stopping) await this.expect('GET maps chunk=0', 200, fetch(url));
  }

  async stop(): Promise<LoadReport> {
    this.stopping = true;
    await Promise.all(this.loops);
    return this.report;
  }

  private async expect(what: string, expected: number, res: Promise<Response>): Promise<string> {
    this.report.requests++;
    let status: number | string;
    let body = '';
    try {
      const r = await res;
      status = r.status;
      body = await r.text();
    } catch (err) {
      status = (err as Error).message;
    }
    if (status !== expected) {
      const key = `${what} -> ${status}`;
      this.report.unexpected.set(key, (this.report.unexpected.get(key) ?? 0) + 1);
    }
    return body;
  }

  private post(path: string, body: unknown): Promise<Response> {
    return fetch(`${this.plan.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  private async loop(worker: number): Promise<void> {
    const { baseUrl, readPids, strategies } = this.plan;
    for (let i = 0; !this.stopping; i++) {
      const strategy = strategies[(worker + i) % strategies.length]!;
      const pid = readPids[i % readPids.length]!;
      if (i % 2 === 0) {
        await this.expect(
          'GET maps',
          200,
          fetch(`${baseUrl}/proc/${pid}/maps?strategy=${strategy}`),
        );
      } else {
        const query = `addr=0x0&flags=COVERING_OR_NEXT_VMA&strategy=${strategy}`;
        await this.expect('GET query', 200, fetch(`${baseUrl}/proc/${pid}/procmap_query?${query}`));
      }
      if (i % 10 === worker % 10) {
        await this.expect(
          'GET maps of an exited pid',
          404,
          fetch(`${baseUrl}/proc/${this.plan.exitedPid}/maps`),
        );
        await this.mutate();
      }
    }
  }

  private async mutate(): Promise<void> {
    const pid = this.plan.mutatePid;
    const length = '0x4000';
    const body = await this.expect(
      'POST mmap',
      200,
      this.post(`/proc/${pid}/mmap`, { length, prot: 'rw-', flags: ['private', 'anonymous'] }),
    );
    let addr: unknown;
    try {
      addr = (JSON.parse(body) as { addr?: unknown }).addr;
    } catch {
      return; // already counted as unexpected
    }
    if (typeof addr === 'string') {
      await this.expect('POST munmap', 200, this.post(`/proc/${pid}/munmap`, { addr, length }));
    }
  }
}
