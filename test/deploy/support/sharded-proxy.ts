/**
 * The committed sharded proxy (deploy/k8s/sharded/nginx/: nginx.conf, pid-shards.conf,
 * routes.conf) run by a real nginx (Debian's package; scripts/system-deps.sh installs it) on
 * loopback: the same files, with the shard upstreams pointed at the test's replicas, the listen
 * address a free loopback port, and every /tmp path moved into a private temporary prefix. nginx
 * runs in the foreground (daemon off), so the test owns and ends it.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './free-port.js';
import { ManagedChild } from './managed-child.js';
import { pollUntil } from './poll.js';
import { REPO_ROOT, repoPath } from './repo-root.js';
import { runTool } from './run-tool.js';

export const NGINX_BIN = process.env.NGINX_BIN ?? 'nginx';
export const PROXY_DIR = 'deploy/k8s/sharded/nginx';
const SHARD_SERVER = /server procfs-sim-shard-(\d+):8080;/g;

/** `nginx -v`, or an error saying how to install it. */
export async function nginxVersion(): Promise<string> {
  const r = await runTool(NGINX_BIN, ['-v']);
  if (r.code !== 0) {
    throw new Error(
      `cannot run ${NGINX_BIN} (${r.output.trim()}); install it with \`apt-get install -y nginx\` (scripts/system-deps.sh does) or set NGINX_BIN`,
    );
  }
  return r.output.trim();
}

/** The committed nginx.conf with shard k at `replicas[k]`, listening on `listen`, paths in `prefix`. */
export function testProxyConfig(
  committed: string,
  replicas: readonly string[],
  listen: string,
  prefix: string,
): string {
  const shards = new Set<number>();
  const conf = committed
    .replace(SHARD_SERVER, (_m, k: string) => {
      const target = replicas[Number(k)];
      if (target === undefined)
        throw new Error(`nginx.conf names shard ${k}; the test has ${replicas.length}`);
      shards.add(Number(k));
      return `server ${target};`;
    })
    .replace(/listen 8080;/, `listen ${listen};`)
    .replaceAll('/tmp/', `${prefix}/`);
  if (shards.size !== replicas.length) {
    throw new Error(
      `nginx.conf has ${shards.size} shards, the test runs ${replicas.length} replicas`,
    );
  }
  return conf;
}

export class ShardedProxy {
  private constructor(
    readonly baseUrl: string,
    readonly child: ManagedChild,
    private readonly prefix: string,
  ) {}

  /** Starts nginx in front of `replicas` ("127.0.0.1:port", shard k first) and waits for it. */
  static async start(replicas: readonly string[], readyTimeoutMs: number): Promise<ShardedProxy> {
    const prefix = await mkdtemp(join(tmpdir(), 'procfs-proxy-'));
    // nginx's workers drop to `nobody` when the test runs as root: let them reach the temp dirs.
    await chmod(prefix, 0o755);
    const port = await freeLoopbackPort();
    const committed = await readFile(repoPath(PROXY_DIR, 'nginx.conf'), 'utf8');
    await writeFile(
      join(prefix, 'nginx.conf'),
      testProxyConfig(committed, replicas, `127.0.0.1:${port}`, prefix),
    );
    for (const f of ['pid-shards.conf', 'routes.conf']) {
      await writeFile(join(prefix, f), await readFile(repoPath(PROXY_DIR, f), 'utf8'));
    }
    const args = [
      '-p',
      prefix,
      '-e',
      'stderr',
      '-c',
      join(prefix, 'nginx.conf'),
      '-g',
      'daemon off;',
    ];
    const child = new ManagedChild('nginx', NGINX_BIN, args, REPO_ROOT);
    const proxy = new ShardedProxy(`http://127.0.0.1:${port}`, child, prefix);
    try {
      await pollUntil(
        async () => ((await fetch(`${proxy.baseUrl}/healthz`)).status === 200 ? true : undefined),
        {
          what: 'nginx GET /healthz',
          timeoutMs: readyTimeoutMs,
          intervalMs: 50,
          abort: () => (child.running ? null : `nginx exited\n${child.output()}`),
        },
      );
    } catch (err) {
      await proxy.stop();
      throw err;
    }
    return proxy;
  }

  async stop(): Promise<void> {
    await this.child.stop();
    await rm(this.prefix, { recursive: true, force: true });
  }
}
