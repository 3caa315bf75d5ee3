/**
 * The deployment files bind 0.0.0.0, so each ships with a bearer token from a secret (issue 11
 * finding 8): the Docker image reads it from TOKEN_FILE, compose mounts one secret into the
 * service, Prometheus (credentials_file) and k6 (TOKEN_FILE), Kubernetes mounts the
 * procfs-sim-token Secret where TOKEN_FILE points (Deployment and sharded StatefulSet) and the
 * ServiceMonitor scrapes with it, and every k6 request sends it. No token is committed.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import { readText, readYaml } from './support/deploy-files.js';
import { repoPath } from './support/repo-root.js';

const COMPOSE_SECRET = 'procfs_sim_token';
const COMPOSE_PATH = `/run/secrets/${COMPOSE_SECRET}`;
const K8S_SECRET = 'procfs-sim-token';

interface ComposeService {
  environment?: Record<string, string>;
  secrets?: string[];
}

describe('compose and the image', () => {
  const compose = readYaml<{
    secrets: Record<string, { file: string }>;
    services: Record<string, ComposeService>;
  }>('deploy/docker-compose.yml');

  test('one secret from an uncommitted file, read by the service through TOKEN_FILE', () => {
    const file = compose.secrets?.[COMPOSE_SECRET]?.file;
    assert.ok(file, `compose needs a top-level secret ${COMPOSE_SECRET}`);
    const dir = posix.dirname(posix.join('deploy', file));
    const ignore = readFileSync(repoPath(dir, '.gitignore'), 'utf8').split('\n');
    assert.ok(ignore.includes('*'), `${dir}/.gitignore must keep the token out of git`);
    const svc = compose.services['procfs-sim']!;
    assert.equal(svc.environment?.HOST, '0.0.0.0');
    assert.deepEqual(svc.secrets, [COMPOSE_SECRET]);
    assert.equal(svc.environment?.TOKEN_FILE, COMPOSE_PATH);
  });

  test('the Dockerfile defaults TOKEN_FILE to the secret path', () => {
    const env = /^ENV [\s\S]*?^\S/m.exec(readText('Dockerfile'))?.[0] ?? '';
    assert.match(env, /HOST=0\.0\.0\.0/);
    assert.match(env, new RegExp(`TOKEN_FILE=${COMPOSE_PATH}\\b`));
  });

  test('Prometheus scrapes with the secret as a bearer token', () => {
    assert.deepEqual(compose.services.prometheus?.secrets, [COMPOSE_SECRET]);
    const job = readYaml<{
      scrape_configs: {
        job_name: string;
        authorization?: { type: string; credentials_file: string };
      }[];
    }>('deploy/prometheus/prometheus.yml').scrape_configs.find((j) => j.job_name === 'procfs-sim');
    assert.deepEqual(job?.authorization, { type: 'Bearer', credentials_file: COMPOSE_PATH });
  });

  test('k6 gets the secret and every k6 request sends it', () => {
    const k6 = compose.services.k6!;
    assert.deepEqual(k6.secrets, [COMPOSE_SECRET]);
    assert.equal(k6.environment?.TOKEN_FILE, COMPOSE_PATH);
    const config = readText('deploy/k6/lib/config.js');
    assert.match(config, /stringEnv\('TOKEN'/);
    assert.match(config, /open\(__ENV\.TOKEN_FILE\)/);
    assert.match(config, /Authorization: `Bearer \$\{TOKEN\}`/);
    for (const file of [
      'deploy/k6/lib/procfs.js',
      'deploy/k6/lib/scenarios.js',
      'deploy/k6/mixed.js',
    ]) {
      const text = readText(file);
      // Every request's params (up to its closing parenthesis) carry the auth headers.
      for (const call of text.matchAll(/http\.(get|post|put|del|request)\(/g)) {
        const rest = text.slice(call.index);
        const params = rest.slice(0, rest.indexOf('});') + 3);
        assert.match(
          params,
          /headers: (AUTH_HEADERS|JSON_HEADERS)/,
          `${file}: ${params.slice(0, 80)}`,
        );
      }
    }
    assert.match(readText('deploy/k6/lib/procfs.js'), /JSON_HEADERS = \{[^}]*\.\.\.AUTH_HEADERS/);
  });
});

interface Pod {
  containers: {
    env?: { name: string; value?: string }[];
    volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  }[];
  volumes?: { name: string; secret?: { secretName: string } }[];
}

describe('Kubernetes', () => {
  for (const file of ['deploy/k8s/deployment.yaml', 'deploy/k8s/sharded/statefulset.yaml']) {
    test(`${file}: TOKEN_FILE is the token key of the ${K8S_SECRET} Secret, mounted read-only`, () => {
      const pod = readYaml<{ spec: { template: { spec: Pod } } }>(file).spec.template.spec;
      const c = pod.containers[0]!;
      const tokenFile = c.env?.find((e) => e.name === 'TOKEN_FILE')?.value;
      assert.ok(tokenFile, 'TOKEN_FILE must be set');
      const mount = c.volumeMounts?.find((m) => posix.join(m.mountPath, 'token') === tokenFile);
      assert.ok(mount, `no volume mounted at ${posix.dirname(tokenFile)}`);
      assert.equal(mount.readOnly, true);
      const volume = pod.volumes?.find((v) => v.name === mount.name);
      assert.equal(volume?.secret?.secretName, K8S_SECRET);
      assert.equal(
        c.env?.find((e) => e.name === 'TOKEN'),
        undefined,
        'no token in the manifest',
      );
    });
  }

  test('the ServiceMonitor scrapes with the same Secret', () => {
    const monitor = readYaml<{
      spec: {
        endpoints: {
          authorization?: { type: string; credentials: { name: string; key: string } };
        }[];
      };
    }>('deploy/k8s/servicemonitor.yaml');
    for (const e of monitor.spec.endpoints) {
      assert.deepEqual(e.authorization, {
        type: 'Bearer',
        credentials: { name: K8S_SECRET, key: 'token' },
      });
    }
  });

  test('the kustomizations say how to create the Secret', () => {
    for (const file of ['deploy/k8s/kustomization.yaml', 'deploy/k8s/sharded/kustomization.yaml']) {
      assert.match(
        readText(file),
        new RegExp(`kubectl create secret generic ${K8S_SECRET} --from-literal=token=`),
      );
    }
  });
});
