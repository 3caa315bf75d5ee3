/**
 * Pid-routed shards for real: three procfs-sim replicas (real server processes, pid bases 0,
 * 10^7 and 2·10^7, each with its own --state-dir) behind a real nginx running the committed proxy
 * configuration on loopback. A client script creates, mutates, forks and reads processes through
 * the proxy only; creations spread over the shards and every later request reaches the owning
 * replica. Then one replica is restarted from its state directory (SIGTERM: nothing lost), and
 * another is killed with SIGKILL after a POST /snapshot (restored up to that snapshot).
 * Bounded: every wait polls with a deadline; no sleeps.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readText } from './support/deploy-files.js';
import { ServiceUnderTest } from './support/service-under-test.js';
import { nginxVersion, PROXY_DIR, ShardedProxy, testProxyConfig } from './support/sharded-proxy.js';

const REPLICAS = 3;
const PID_STRIDE = 10_000_000;
const READY_MS = 90_000;
const shardOf = (pid: number) => Math.floor(pid / PID_STRIDE);

interface Replica {
  service: ServiceUnderTest;
  args: string[];
  port: number;
}

describe('three replicas behind the nginx proxy', { timeout: 240_000 }, () => {
  const stateRoot = mkdtempSync(join(tmpdir(), 'procfs-shards-'));
  const replicas: Replica[] = [];
  let proxy: ShardedProxy;

  const startReplica = async (k: number, port?: number): Promise<Replica> => {
    const args = [
      '--pid-base',
      String(k * PID_STRIDE),
      '--state-dir',
      join(stateRoot, `shard-${k}`),
      '--cpus',
      '1',
      '--population',
      '1',
      '--log-level',
      'warn',
    ];
    const service = await ServiceUnderTest.start(READY_MS, args, port);
    return { service, args, port: Number(service.hostPort.split(':')[1]) };
  };

  before(async () => {
    process.stdout.write(`${await nginxVersion()}\n`);
    replicas.push(...(await Promise.all([0, 1, 2].map((k) => startReplica(k)))));
    proxy = await ShardedProxy.start(
      replicas.map((r) => r.service.hostPort),
      READY_MS,
    );
  });
  after(async () => {
    await proxy?.stop();
    await Promise.all(replicas.map((r) => r.service.stop()));
    rmSync(stateRoot, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown, base = proxy.baseUrl) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) };
  };
  const maps = async (pid: number) => {
    const r = await call('GET', `/proc/${pid}/maps`);
    assert.equal(r.status, 200, `maps of ${pid}: ${r.text}`);
    return r.text;
  };
  const created: number[] = [];
  const snapshotOf = async () => {
    const out = new Map<number, string>();
    for (const pid of created) out.set(pid, await maps(pid));
    return out;
  };

  test('the committed proxy config names every replica once', () => {
    const conf = readText(`${PROXY_DIR}/nginx.conf`);
    assert.doesNotThrow(() => testProxyConfig(conf, ['a:1', 'b:2', 'c:3'], '127.0.0.1:1', '/x'));
  });

  test('creations spread over the shards; every pid is served by the replica that owns it', async () => {
    const templates = ['bash', 'node', 'minimal', 'jvm', 'bash', 'minimal'];
    for (const template of templates) {
      const r = await call('POST', '/processes', { template, comm: `t-${template}` });
      assert.equal(r.status, 201, r.text);
      created.push(r.json().pid);
    }
    const shards = new Set(created.map(shardOf));
    assert.deepEqual([...shards].sort(), [0, 1, 2], `pids ${created} cover every shard`);
    for (const pid of [...created]) {
      const addr = `0x${(0x500000000000 + (pid % 97) * 0x100000).toString(16)}`;
      const m = await call('POST', `/proc/${pid}/syscalls`, {
        calls: [
          {
            op: 'mmap',
            addr,
            length: '0x6000',
            prot: 'rw-',
            flags: ['private', 'anonymous', 'fixed'],
          },
          { op: 'anon_name', addr, length: '0x2000', name: `buf-${pid}` },
          { op: 'mmap', length: '0x3000', prot: 'rw-', flags: ['shared', 'anonymous'] },
        ],
      });
      assert.equal(m.status, 200, m.text);
      const child = await call('POST', `/processes/${pid}/fork`);
      assert.equal(child.status, 201, child.text);
      const childPid = child.json().pid as number;
      assert.equal(shardOf(childPid), shardOf(pid), 'fork runs on the parent’s replica');
      created.push(childPid);
    }
    for (const pid of created) {
      const direct = await call(
        'GET',
        `/proc/${pid}/maps`,
        undefined,
        replicas[shardOf(pid)]!.service.baseUrl,
      );
      assert.equal(await maps(pid), direct.text, `pid ${pid} through the proxy == direct`);
      const q = await call('GET', `/proc/${pid}/procmap_query?addr=0x0&flags=COVERING_OR_NEXT_VMA`);
      assert.equal(q.status, 200, q.text);
    }
    // A pid no replica owns, and one in a range that exists but was never created.
    const none = await call('GET', `/proc/${7 * PID_STRIDE + 1}/maps`);
    assert.equal(none.status, 404);
    assert.equal(none.json().error, 'ESRCH');
    assert.equal(
      (await call('GET', `/processes/${2 * PID_STRIDE + 4_000_000}`)).json().error,
      'ESRCH',
    );
    // Each shard lists exactly its own processes.
    for (let k = 0; k < REPLICAS; k++) {
      const list = (await call('GET', `/shards/${k}/processes?limit=1000`)).json();
      const pids = list.processes.map((p: { pid: number }) => p.pid) as number[];
      assert.ok(
        pids.every((p) => shardOf(p) === k),
        `shard ${k} lists ${pids}`,
      );
      for (const pid of created.filter((p) => shardOf(p) === k)) assert.ok(pids.includes(pid));
    }
  });

  test('a replica restarted from its state dir loses nothing', async () => {
    const before = await snapshotOf();
    const list = (await call('GET', '/shards/1/processes?limit=1000')).text;
    const r = replicas[1]!;
    await r.service.stop(); // SIGTERM: in-flight requests finish, the state is written
    const down = await call('GET', `/proc/${created.find((p) => shardOf(p) === 1)}/maps`);
    assert.equal(down.status, 502, 'while shard 1 is down the proxy says so');
    replicas[1] = await startReplica(1, r.port);
    assert.equal((await call('GET', '/shards/1/processes?limit=1000')).text, list);
    assert.deepEqual(await snapshotOf(), before);
    const next = await call('POST', '/shards/1/processes', { template: 'minimal' });
    const lastOnShard1 = Math.max(...JSON.parse(list).processes.map((p: { pid: number }) => p.pid));
    assert.ok(next.json().pid > lastOnShard1, 'the pid counter survived');
    created.push(next.json().pid);
  });

  test('kill -9 after POST /snapshot restores up to the snapshot', async () => {
    const pid = created.find((p) => shardOf(p) === 2)!;
    const snap = await call('POST', '/shards/2/snapshot');
    assert.equal(snap.status, 200, snap.text);
    assert.ok(snap.json().processes >= 2 && snap.json().bytes > 0);
    const metrics = (await call('GET', '/shards/2/metrics')).text;
    assert.match(metrics, /^procfs_snapshots_total\{result="ok"\} [1-9]/m);
    assert.match(metrics, /^procfs_snapshot_bytes [1-9]/m);
    const atSnapshot = await maps(pid);
    const late = await call('POST', `/proc/${pid}/mmap`, {
      addr: '0x4f0000000000',
      length: '0x1000',
      prot: 'r--',
      flags: ['private', 'anonymous', 'fixed'],
    });
    assert.equal(late.status, 200, late.text);
    assert.notEqual(await maps(pid), atSnapshot);
    const r = replicas[2]!;
    await r.service.child.kill();
    replicas[2] = await startReplica(2, r.port);
    assert.equal(await maps(pid), atSnapshot, 'restored exactly as at the snapshot');
  });
});
