/**
 * Static checks of the deployment files: every YAML/JSON file under deploy/ parses, and the
 * pieces are wired to each other (ports, scrape paths, compose mounts, Grafana provisioning,
 * Dockerfile HEALTHCHECK and CMD, Kubernetes probes, selectors and ports). Docker, Grafana and
 * Kubernetes cannot run here, so this is what keeps their files honest.
 *
 * Reproduce: npx tsx --test test/deploy/static.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { posix, relative } from 'node:path';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import {
  DASHBOARD_CONFIGMAP_PATH,
  DASHBOARD_JSON_PATH,
} from '../../deploy/grafana/src/dashboard-files.js';
import { filesUnder, readText, readYaml } from './support/deploy-files.js';
import { REPO_ROOT, repoPath } from './support/repo-root.js';

/** The port the service listens on in every deployment file. */
const SERVICE_PORT = 8080;

describe('deploy files parse', () => {
  test('every YAML and JSON file under deploy/ parses', () => {
    const files = filesUnder(repoPath('deploy')).filter((f) => /\.(ya?ml|json)$/.test(f));
    assert.ok(files.length >= 10, `expected the deploy tree, found ${files.length} files`);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const name = relative(REPO_ROOT, file);
      if (file.endsWith('.json')) {
        assert.doesNotThrow(() => JSON.parse(text), `${name} is not valid JSON`);
      } else {
        for (const doc of parseAllDocuments(text)) {
          assert.deepEqual(doc.errors, [], `${name} is not valid YAML`);
        }
      }
    }
  });
});

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  volumes?: string[];
  command?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
}
const compose = readYaml<{ services: Record<string, ComposeService> }>('deploy/docker-compose.yml');
const services = compose.services;

/** Compose mounts as `{host, container}` with the host path resolved from deploy/. */
function mounts(service: ComposeService): { host: string; container: string }[] {
  return (service.volumes ?? []).map((v) => {
    const [host, container] = v.split(':');
    return { host: posix.join('deploy', host!), container: container! };
  });
}

describe('docker-compose wiring', () => {
  test('the service is built from the Dockerfile and published on 8080', () => {
    const svc = services['procfs-sim'];
    assert.ok(svc?.build, 'procfs-sim must be built from the repo');
    assert.ok(existsSync(repoPath('deploy', svc.build.context, svc.build.dockerfile)));
    assert.deepEqual(svc.ports, [`${SERVICE_PORT}:${SERVICE_PORT}`]);
    assert.equal(svc.environment?.PORT, String(SERVICE_PORT));
    assert.equal(svc.environment?.HOST, '0.0.0.0');
  });

  test('every bind mount points at a file or directory that exists', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const { host } of mounts(svc)) {
        assert.ok(existsSync(repoPath(host)), `${name} mounts ${host}, which does not exist`);
      }
    }
  });

  test('Prometheus loads the committed config, scrapes /metrics on procfs-sim:8080, accepts remote write', () => {
    const prom = services.prometheus!;
    const configArg = prom.command?.find((a) => a.startsWith('--config.file='));
    assert.ok(configArg, 'prometheus needs --config.file');
    const mount = mounts(prom).find((m) => m.container === configArg.split('=')[1]);
    assert.equal(mount?.host, 'deploy/prometheus/prometheus.yml');
    assert.ok(prom.command?.includes('--web.enable-remote-write-receiver'));
    const config = readYaml<{
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        static_configs: { targets: string[] }[];
      }[];
    }>('deploy/prometheus/prometheus.yml');
    const job = config.scrape_configs.find((j) =>
      j.static_configs.some((s) => s.targets.includes(`procfs-sim:${SERVICE_PORT}`)),
    );
    assert.ok(job, 'no scrape job targets procfs-sim:8080');
    assert.equal(job.metrics_path ?? '/metrics', '/metrics');
  });

  test('Grafana provisioning: data source is compose Prometheus, dashboards path is the mounted dashboards dir', () => {
    const grafana = services.grafana!;
    const byHost = new Map(mounts(grafana).map((m) => [m.host, m.container]));
    assert.equal(byHost.get('deploy/grafana/provisioning'), '/etc/grafana/provisioning');
    const dashboardsDir = byHost.get('deploy/grafana/dashboards');
    assert.ok(dashboardsDir, 'grafana must mount deploy/grafana/dashboards');

    const providers = readYaml<{ providers: { type: string; options: { path: string } }[] }>(
      'deploy/grafana/provisioning/dashboards/dashboards.yml',
    ).providers;
    assert.deepEqual(
      providers.map((p) => [p.type, p.options.path]),
      [['file', dashboardsDir]],
    );

    const home = grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    assert.equal(home, posix.join(dashboardsDir, posix.basename(DASHBOARD_JSON_PATH)));

    const datasources = readYaml<{ datasources: { type: string; url: string }[] }>(
      'deploy/grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    const promPort = services.prometheus!.ports![0]!.split(':')[1];
    assert.deepEqual(
      datasources.map((d) => [d.type, d.url]),
      [['prometheus', `http://prometheus:${promPort}`]],
    );
  });

  test('k6 runs an existing scenario against the service and writes to Prometheus', () => {
    const k6 = services.k6!;
    assert.deepEqual(k6.profiles, ['k6']);
    const scripts = mounts(k6).find((m) => m.host === 'deploy/k6');
    assert.ok(scripts, 'k6 must mount deploy/k6');
    const script = k6.command?.find((a) => a.endsWith('.js'));
    assert.ok(script, 'k6 must run a script');
    const defaultScript = script.replace(/\$\{\w+:-([^}]+)\}/, '$1');
    assert.ok(defaultScript.startsWith(`${scripts.container}/`));
    assert.ok(existsSync(repoPath('deploy/k6', defaultScript.slice(scripts.container.length + 1))));
    assert.ok(k6.command?.includes('experimental-prometheus-rw'));
    assert.equal(k6.environment?.BASE_URL, `http://procfs-sim:${SERVICE_PORT}`);
    const promPort = services.prometheus!.ports![0]!.split(':')[1];
    assert.equal(
      k6.environment?.K6_PROMETHEUS_RW_SERVER_URL,
      `http://prometheus:${promPort}/api/v1/write`,
    );
  });
});

describe('Dockerfile', () => {
  const lines = readText('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const instructions = (name: string) => lines.filter((l) => l.startsWith(`${name} `));

  test('multi-stage, slim runtime with production dependencies only, non-root', () => {
    const froms = instructions('FROM');
    assert.ok(froms.length >= 2, 'expected a build and a runtime stage');
    assert.match(froms.at(-1)!, /^FROM node:20-slim\b/);
    const runtime = lines.slice(lines.indexOf(froms.at(-1)!));
    assert.ok(runtime.some((l) => /^RUN npm ci .*--omit=dev/.test(l)));
    assert.ok(runtime.some((l) => /^COPY --from=\w+ \/app\/dist/.test(l)));
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    assert.ok(user && !/^USER (root|0)\b/.test(user), 'runtime must not run as root');
  });

  test('EXPOSE, HEALTHCHECK and CMD agree with the service', () => {
    assert.deepEqual(instructions('EXPOSE'), [`EXPOSE ${SERVICE_PORT}`]);
    const health = instructions('HEALTHCHECK');
    assert.equal(health.length, 1);
    assert.match(health[0]!, /CMD \["node", "-e", .*\/healthz/);
    assert.ok(
      health[0]!.includes(`||${SERVICE_PORT}`),
      'healthcheck must default to the service port',
    );
    const cmd = JSON.parse(instructions('CMD').at(-1)!.slice(4)) as string[];
    assert.deepEqual(cmd.slice(0, 2), ['node', 'dist/src/server.js']);
    assert.ok(
      existsSync(repoPath('src/server.ts')),
      'the CMD runs dist/src/server.js, compiled from src/server.ts, which does not exist (yet)',
    );
  });

  test('every COPY source exists and .dockerignore keeps node_modules and dist out', () => {
    for (const copy of instructions('COPY').filter((l) => !l.includes('--from='))) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const source of sources)
        assert.ok(existsSync(repoPath(source)), `COPY ${source} missing`);
    }
    const ignored = readText('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const path of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(path), path);
  });
});

/** Packages imported at run time (not `import type`) by the .ts files below `dir`. */
function runtimeImports(dir: string): Map<string, string> {
  const found = new Map<string, string>(); // package -> first file importing it
  const files = filesUnder(repoPath(dir)).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s+'([^']+)'/gm),
      ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
    ].map((m) => m[1]!);
    for (const spec of specifiers) {
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec))
        continue;
      const parts = spec.split('/');
      const pkg = spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
      if (!found.has(pkg)) found.set(pkg, relative(REPO_ROOT, file));
    }
  }
  return found;
}

describe('runtime image dependencies', () => {
  test('everything src/ and routes/ import at run time is a production dependency', () => {
    // The runtime stage installs with `npm ci --omit=dev`: a devDependency imported by the
    // server would be missing there and the container would crash at start-up.
    const pkg = JSON.parse(readText('package.json')) as { dependencies: Record<string, string> };
    const imports = new Map([...runtimeImports('src'), ...runtimeImports('routes')]);
    assert.ok(imports.has('fastify'), `import scan found too little: ${[...imports.keys()]}`);
    for (const [name, file] of imports) {
      assert.ok(
        name in pkg.dependencies,
        `${file} imports ${name}, which is not in "dependencies"`,
      );
    }
  });
});

describe('Kubernetes manifests', () => {
  interface Probe {
    httpGet: { path: string; port: string | number };
  }
  interface Container {
    ports: { name: string; containerPort: number }[];
    startupProbe?: Probe;
    readinessProbe?: Probe;
    livenessProbe?: Probe;
    resources?: { requests?: { cpu?: string }; limits?: { cpu?: string } };
    env?: { name: string; value: string }[];
  }
  const deployment = readYaml<{
    spec: {
      selector: { matchLabels: Record<string, string> };
      template: {
        metadata: { labels: Record<string, string>; annotations: Record<string, string> };
        spec: { containers: Container[] };
      };
    };
  }>('deploy/k8s/deployment.yaml');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0]!;
  const portByName = new Map(container.ports.map((p) => [p.name, p.containerPort]));

  test('container port, probes on /healthz, resources', () => {
    assert.equal(portByName.get('http'), SERVICE_PORT);
    for (const probe of [
      container.startupProbe,
      container.readinessProbe,
      container.livenessProbe,
    ]) {
      assert.ok(probe, 'startup, readiness and liveness probes are all required');
      assert.equal(probe.httpGet.path, '/healthz');
      const port = probe.httpGet.port;
      assert.equal(typeof port === 'string' ? portByName.get(port) : port, SERVICE_PORT);
    }
    assert.ok(container.resources?.requests && container.resources.limits);
  });

  test('worker CPUs (CPUS) equal the CPU limit, so workers do not outnumber the cores', () => {
    const cpus = container.env?.find((e) => e.name === 'CPUS')?.value;
    const limit = container.resources?.limits?.cpu;
    assert.ok(cpus !== undefined && limit !== undefined, 'set both CPUS and limits.cpu');
    assert.equal(Number(cpus), Number(limit));
  });

  test('selector matches the pod, scrape annotations point at /metrics on 8080', () => {
    for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) {
      assert.equal(pod.metadata.labels[k], v);
    }
    const a = pod.metadata.annotations;
    assert.deepEqual(
      [a['prometheus.io/scrape'], a['prometheus.io/port'], a['prometheus.io/path']],
      ['true', String(SERVICE_PORT), '/metrics'],
    );
  });

  test('Service and ServiceMonitor reach the container port and /metrics', () => {
    const service = readYaml<{
      spec: {
        selector: Record<string, string>;
        ports: { name: string; port: number; targetPort: string | number }[];
      };
      metadata: { labels: Record<string, string> };
    }>('deploy/k8s/service.yaml');
    for (const [k, v] of Object.entries(service.spec.selector))
      assert.equal(pod.metadata.labels[k], v);
    const http = service.spec.ports.find((p) => p.name === 'http');
    assert.equal(http?.port, SERVICE_PORT);
    const target = http.targetPort;
    assert.equal(typeof target === 'string' ? portByName.get(target) : target, SERVICE_PORT);

    const monitor = readYaml<{
      kind: string;
      spec: {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
      };
    }>('deploy/k8s/servicemonitor.yaml');
    assert.equal(monitor.kind, 'ServiceMonitor');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) {
      assert.equal(service.metadata.labels[k], v);
    }
    assert.deepEqual(
      monitor.spec.endpoints.map((e) => [e.port, e.path]),
      [['http', '/metrics']],
    );
  });

  test('kustomization lists files that exist, including the dashboard ConfigMap', () => {
    const kustomization = readYaml<{ resources: string[] }>('deploy/k8s/kustomization.yaml');
    for (const file of kustomization.resources)
      assert.ok(existsSync(repoPath('deploy/k8s', file)), file);
    assert.ok(kustomization.resources.includes(posix.basename(DASHBOARD_CONFIGMAP_PATH)));
  });
});
