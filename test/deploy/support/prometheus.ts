/**
 * A real Prometheus (the `prometheus` binary .ci/run installs from Debian) for a test: started on
 * a loopback port with a scrape config derived from the committed deploy/prometheus/prometheus.yml
 * (same job and metrics path, pointed at the test's service and scraping every second), a TSDB in
 * a temporary directory, and an instant-query client for its HTTP API.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { freeLoopbackPort } from './free-port.js';
import { ManagedChild } from './managed-child.js';
import { pollUntil } from './poll.js';

const run = promisify(execFile);

/** The binary to run: $PROMETHEUS_BIN, else `prometheus` on the PATH. */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';

/** One series of an instant vector. `value` is NaN when Prometheus says NaN (e.g. 0/0). */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  [key: string]: unknown;
}

/** `prometheus --version`'s first line, or an error saying how to install it. */
export async function prometheusVersion(): Promise<string> {
  try {
    const { stdout, stderr } = await run(PROMETHEUS_BIN, ['--version']);
    return `${stdout}${stderr}`.split('\n')[0]!;
  } catch (err) {
    throw new Error(
      `cannot run ${PROMETHEUS_BIN} (${(err as Error).message}); install it with ` +
        '`apt-get install -y prometheus` (.ci/run does) or set PROMETHEUS_BIN',
    );
  }
}

/**
 * The committed scrape job for `jobName`, retargeted at `target` and scraped every second; the
 * committed config's other jobs are dropped (they point at compose hosts).
 */
export async function testScrapeConfig(
  committedConfigPath: string,
  jobName: string,
  target: string,
): Promise<string> {
  const committed = parse(await readFile(committedConfigPath, 'utf8')) as {
    scrape_configs: ScrapeJob[];
  };
  const job = committed.scrape_configs.find((j) => j.job_name === jobName);
  if (job === undefined) throw new Error(`${committedConfigPath} has no job ${jobName}`);
  await withLocalTokenFiles(
    committed.scrape_configs,
    await mkdtemp(join(tmpdir(), 'procfs-sim-token-')),
  );
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        ...job,
        scrape_interval: '1s',
        scrape_timeout: '1s',
        static_configs: [{ targets: [target] }],
      },
    ],
  });
}

/**
 * Points every job's `authorization.credentials_file` (the compose secret's path, absent here)
 * at a token file written in `dir`, so the config loads and scrapes as committed. The service
 * under test runs without --token and ignores the header; the token wiring itself is checked
 * statically (test/deploy/static.test.ts).
 */
export async function withLocalTokenFiles(jobs: ScrapeJob[], dir: string): Promise<void> {
  for (const job of jobs) {
    const auth = job.authorization as { credentials_file?: string } | undefined;
    if (auth?.credentials_file === undefined) continue;
    auth.credentials_file = join(dir, 'token');
    await writeFile(auth.credentials_file, 'test-token\n');
  }
}

export class PrometheusUnderTest {
  private constructor(
    readonly baseUrl: string,
    readonly child: ManagedChild,
    private readonly workDir: string,
  ) {}

  /** Starts Prometheus with `config` and resolves once `/-/ready` answers 200. */
  static async start(config: string, readyTimeoutMs: number): Promise<PrometheusUnderTest> {
    const workDir = await mkdtemp(join(tmpdir(), 'procfs-sim-prometheus-'));
    const configFile = join(workDir, 'prometheus.yml');
    await writeFile(configFile, config);
    const port = await freeLoopbackPort();
    const child = new ManagedChild(
      'prometheus',
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      workDir,
    );
    const prom = new PrometheusUnderTest(`http://127.0.0.1:${port}`, child, workDir);
    try {
      await pollUntil(
        async () => ((await fetch(`${prom.baseUrl}/-/ready`)).status === 200 ? true : undefined),
        {
          what: 'Prometheus /-/ready',
          timeoutMs: readyTimeoutMs,
          abort: () => (child.running ? null : `prometheus exited\n${child.output()}`),
        },
      );
    } catch (err) {
      await prom.stop();
      throw err;
    }
    return prom;
  }

  /** Instant query at the current time; throws with Prometheus's message on a bad query. */
  async query(expr: string): Promise<Sample[]> {
    const res = await fetch(`${this.baseUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: {
        resultType: string;
        result: { metric: Record<string, string>; value: [number, string] }[];
      };
    };
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`Prometheus rejected ${expr}: ${body.error ?? res.status}`);
    }
    if (body.data.resultType !== 'vector') {
      throw new Error(`expected an instant vector from ${expr}, got ${body.data.resultType}`);
    }
    return body.data.result.map((r) => ({
      metric: r.metric,
      value: Number.parseFloat(r.value[1]),
    }));
  }

  /** Values of `label` over the series of `metric`: what Grafana's label_values() shows. */
  async labelValues(label: string, metric: string): Promise<string[]> {
    const url = `${this.baseUrl}/api/v1/label/${label}/values?match[]=${encodeURIComponent(metric)}`;
    const body = (await (await fetch(url)).json()) as { status: string; data?: string[] };
    if (body.status !== 'success' || body.data === undefined)
      throw new Error(`label values ${url}`);
    return body.data;
  }

  async stop(): Promise<void> {
    await this.child.stop();
    await rm(this.workDir, { recursive: true, force: true });
  }
}
