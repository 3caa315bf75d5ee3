/**
 * Static checks of the sharded deployment (deploy/k8s/sharded): the StatefulSet, the per-shard
 * Services and the nginx proxy configuration agree on the number of shards, the pid stride, the
 * ports, probes and volumes; and the proxy's pid regexes route every pid of the server's ranges
 * (src/cpus/process-table.ts) to the replica that owns it. The live test is shards.test.ts.
 *
 * Reproduce: npx tsx --test test/deploy/sharded-static.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { PID_RANGE } from '../../src/cpus/process-table.js';
import { readText, readYaml } from './support/deploy-files.js';
import { repoPath } from './support/repo-root.js';

const DIR = 'deploy/k8s/sharded';
const PORT = 8080;
const PID_STRIDE = 10_000_000;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}
interface Container {
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  ports: { name: string; containerPort: number }[];
  startupProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  livenessProbe?: { httpGet: { path: string; port: string } };
  resources: { limits: { cpu: string } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Workload {
  kind: string;
  metadata: { name: string };
  spec: {
    replicas: number;
    serviceName?: string;
    selector: { matchLabels: Record<string, string> };
    volumeClaimTemplates?: { metadata: { name: string } }[];
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        terminationGracePeriodSeconds?: number;
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string } }[];
      };
    };
  };
}
interface Service {
  kind: string;
  metadata: { name: string };
  spec: {
    clusterIP?: string;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: string }[];
  };
}

const docs = (file: string) =>
  parseAllDocuments(readText(`${DIR}/${file}`)).map((d) => d.toJSON() as unknown);

const sts = readYaml<Workload>(`${DIR}/statefulset.yaml`);
const sim = sts.spec.template.spec.containers[0]!;
const env = (name: string) => sim.env?.find((e) => e.name === name);
const services = docs('shard-services.yaml') as Service[];
const [proxyDeployment, proxyService] = docs('proxy.yaml') as [Workload, Service];
const nginxConf = readText(`${DIR}/nginx/nginx.conf`);
const shardsConf = readText(`${DIR}/nginx/pid-shards.conf`);

describe('sharded StatefulSet', () => {
  test('each pod derives its pid base from its ordinal and keeps its state on a volume', () => {
    assert.equal(sts.kind, 'StatefulSet');
    assert.equal(
      env('POD_INDEX')?.valueFrom?.fieldRef?.fieldPath,
      "metadata.labels['apps.kubernetes.io/pod-index']",
    );
    assert.equal(env('PID_BASE')?.value, '$(POD_INDEX)0000000', 'ordinal × 10^7 by concatenation');
    assert.equal(String(PID_STRIDE).slice(1), '0000000');
    const stateDir = env('STATE_DIR')?.value;
    const mount = sim.volumeMounts.find((m) => m.mountPath === stateDir);
    assert.ok(mount, 'STATE_DIR is a mounted volume');
    assert.ok(sts.spec.volumeClaimTemplates?.some((v) => v.metadata.name === mount.name));
  });

  test('probes on /healthz:8080, CPUS = CPU limit, shutdown has time to write the state', () => {
    assert.equal(sim.ports.find((p) => p.name === 'http')?.containerPort, PORT);
    for (const p of [sim.startupProbe, sim.readinessProbe, sim.livenessProbe]) {
      assert.deepEqual([p?.httpGet.path, p?.httpGet.port], ['/healthz', 'http']);
    }
    assert.equal(Number(env('CPUS')?.value), Number(sim.resources.limits.cpu));
    const grace = sts.spec.template.spec.terminationGracePeriodSeconds ?? 30;
    assert.ok(Number(env('CLOSE_GRACE_MS')?.value) < (grace * 1000) / 2);
  });
});

describe('shards agree everywhere', () => {
  const n = sts.spec.replicas;
  const upstreams = [
    ...nginxConf.matchAll(/upstream procfs_shard_(\d+) \{ server procfs-sim-shard-(\d+):(\d+);/g),
  ];
  const anyBlock = /upstream procfs_any \{([^}]*)\}/.exec(nginxConf)?.[1] ?? '';
  const shardMap = [...nginxConf.matchAll(/^\s+(\d+)\s+procfs_shard_(\d+);/gm)];

  test('one upstream, one map entry and one Service per StatefulSet replica', () => {
    assert.ok(n >= 2);
    const range = [...Array(n).keys()];
    assert.deepEqual(
      upstreams.map((u) => [Number(u[1]), Number(u[2]), Number(u[3])]),
      range.map((k) => [k, k, PORT]),
    );
    assert.deepEqual(
      shardMap.map((m) => [Number(m[1]), Number(m[2])]),
      range.map((k) => [k, k]),
    );
    assert.deepEqual(
      [...anyBlock.matchAll(/server procfs-sim-shard-(\d+):8080;/g)].map((m) => Number(m[1])),
      range,
    );
    const headless = services.find((s) => s.spec.clusterIP === 'None');
    assert.equal(headless?.metadata.name, sts.spec.serviceName);
    for (const k of range) {
      const svc = services.find((s) => s.metadata.name === `procfs-sim-shard-${k}`);
      assert.ok(svc, `Service procfs-sim-shard-${k}`);
      assert.deepEqual(svc.spec.selector, {
        'statefulset.kubernetes.io/pod-name': `${sts.metadata.name}-${k}`,
      });
      assert.deepEqual([svc.spec.ports[0]?.port, svc.spec.ports[0]?.targetPort], [PORT, 'http']);
    }
  });

  test("the proxy's pid regexes send every pid of a replica's range to that replica", () => {
    assert.ok(PID_STRIDE >= PID_RANGE, 'a replica’s whole pid range fits below the next base');
    const rules = [...shardsConf.matchAll(/^\s+"~([^"]+)"\s+(\S+);/gm)].map((m) => ({
      re: new RegExp(m[1]!),
      value: m[2]!,
    }));
    const route = (uri: string): string => {
      for (const { re, value } of rules) {
        const m = re.exec(uri);
        if (m) return value.startsWith('$') ? (m.groups?.[value.slice(1)] ?? '?') : value;
      }
      return '';
    };
    for (let k = 0; k < 12; k++) {
      for (const local of [1, 2, 4242, PID_RANGE - 1]) {
        const pid = k * PID_STRIDE + local;
        for (const path of [`/proc/${pid}/maps`, `/processes/${pid}`, `/processes/${pid}/fork`]) {
          assert.equal(route(path), String(k), `${path}`);
        }
      }
    }
    assert.equal(route('/processes'), '');
    assert.equal(route('/processes/12x'), '');
    assert.equal(route('/shards/2/metrics'), '2');
  });
});

describe('proxy Deployment', () => {
  test('runs the generated ConfigMap, listens where its Service points, files exist', () => {
    const k = readYaml<{
      resources: string[];
      configMapGenerator: { name: string; files: string[] }[];
    }>(`${DIR}/kustomization.yaml`);
    for (const f of k.resources) assert.ok(existsSync(repoPath(DIR, f)), f);
    const gen = k.configMapGenerator.find((g) => g.name === 'procfs-proxy');
    assert.ok(gen);
    for (const f of gen.files) assert.ok(existsSync(repoPath(DIR, f)), f);
    for (const m of nginxConf.matchAll(/include (\S+);/g)) {
      assert.ok(gen.files.includes(`nginx/${m[1]}`), `${m[1]} is in the ConfigMap`);
    }
    const pod = proxyDeployment.spec.template.spec;
    const c = pod.containers[0]!;
    const vol = pod.volumes?.find((v) => v.configMap?.name === gen.name);
    const mount = c.volumeMounts.find((m) => m.name === vol?.name);
    assert.ok(mount);
    assert.ok(c.command?.includes(`${mount.mountPath}/nginx.conf`));
    assert.match(nginxConf, new RegExp(`listen ${c.ports[0]!.containerPort};`));
    assert.equal(proxyService.spec.ports[0]?.targetPort, c.ports[0]!.name);
    assert.match(nginxConf, /pid \/tmp\//);
    assert.ok(
      c.volumeMounts.some((m) => m.mountPath === '/tmp'),
      'every path nginx writes is /tmp',
    );
  });
});
