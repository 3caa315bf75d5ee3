/**
 * The real procfs-sim server (the built `dist/src/server.js`, as `npm start` runs it) on a free
 * loopback port, plus the few JSON calls the deploy tests make against it.
 */
import { existsSync } from 'node:fs';
import { freeLoopbackPort } from './free-port.js';
import { ManagedChild } from './managed-child.js';
import { pollUntil } from './poll.js';
import { REPO_ROOT, repoPath } from './repo-root.js';

/** The server entry: $PROCFS_SIM_SERVER_ENTRY (to develop these tests elsewhere), else dist's. */
export const SERVER_ENTRY = process.env.PROCFS_SIM_SERVER_ENTRY ?? repoPath('dist/src/server.js');

export class ServiceUnderTest {
  private constructor(
    readonly baseUrl: string,
    readonly hostPort: string,
    readonly child: ManagedChild,
  ) {}

  /**
   * Starts the server and resolves once GET /healthz answers 200. `extraArgs` are appended to the
   * command line; `port` reuses a port (a restarted replica keeps its address), default a free one.
   */
  static async start(
    readyTimeoutMs: number,
    extraArgs: readonly string[] = [],
    port?: number,
  ): Promise<ServiceUnderTest> {
    if (!existsSync(SERVER_ENTRY)) {
      throw new Error(
        `${SERVER_ENTRY} does not exist: build first (npx tsc -p tsconfig.json, or npm test)`,
      );
    }
    port ??= await freeLoopbackPort();
    const child = new ManagedChild(
      'procfs-sim',
      process.execPath,
      // Overload shedding (under-pressure's event-loop-delay 503) is not under test here, and a
      // loaded CI machine would trip it; it has tests of its own (test/http).
      [
        SERVER_ENTRY,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--max-event-loop-delay-ms',
        '0',
        // Pinned, not the host's core count, so 2 and 16 cores run the same test (a caller's
        // --cpus comes later and wins).
        '--cpus',
        '2',
        ...extraArgs,
      ],
      REPO_ROOT,
    );
    const hostPort = `127.0.0.1:${port}`;
    const service = new ServiceUnderTest(`http://${hostPort}`, hostPort, child);
    try {
      await pollUntil(
        async () => ((await fetch(`${service.baseUrl}/healthz`)).status === 200 ? true : undefined),
        {
          what: 'procfs-sim GET /healthz',
          timeoutMs: readyTimeoutMs,
          abort: () => (child.running ? null : `the server exited\n${child.output()}`),
        },
      );
    } catch (err) {
      await child.stop();
      throw err;
    }
    return service;
  }

  /** A JSON request; resolves with the status and the parsed body (null when empty). */
  async json(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  /** POST /processes; throws unless the process was created. */
  async createProcess(spec: Record<string, unknown>): Promise<number> {
    const res = await this.json('POST', '/processes', spec);
    const pid = (res.body as { pid?: unknown } | null)?.pid;
    if (res.status !== 201 || typeof pid !== 'number') {
      throw new Error(
        `POST /processes ${JSON.stringify(spec)} -> ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    return pid;
  }

  /** PUT /processes/:pid/activity; throws unless the activity was accepted. */
  async startActivity(pid: number, activity: Record<string, unknown>): Promise<void> {
    const res = await this.json('PUT', `/processes/${pid}/activity`, activity);
    if (res.status < 200 || res.status > 299) {
      throw new Error(
        `PUT activity ${JSON.stringify(activity)} -> ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
