/**
 * Foreign Origins cannot write or open /ws (a CORS simple request with `text/plain` used to fork
 * a process), and a Host header that is not the listen address is refused (DNS rebinding), unless
 * `--allowed-origins` / `--allowed-hosts` say otherwise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { defaultConfig } from '../../src/config.js';
import { allowedHostNames, hostName } from '../../src/plugins/app/origin-host.js';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

const EVIL = 'http://evil.example';

describe('Origin', () => {
  test('a cross-origin simple request (text/plain POST) is 403 EACCES and forks nothing', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim);
    try {
      const r = await app.inject({
        method: 'POST',
        url: '/processes/1/fork',
        headers: { origin: EVIL, 'content-type': 'text/plain' },
        payload: 'x',
      });
      assert.equal(r.statusCode, 403, r.body);
      assert.equal(r.json().error, 'EACCES');
      assert.equal(r.json().errno, 13);
      assert.equal(sim.log.filter((l) => l.method === 'forkProcess').length, 0);
      for (const method of ['DELETE', 'PUT'] as const) {
        const w = await app.inject({
          method,
          url: method === 'PUT' ? '/config/strategy' : '/processes/1',
          headers: { origin: 'null' },
        });
        assert.equal(w.statusCode, 403);
      }
      assert.ok(sim.procs.has(1));
      // Reads are not refused (the page cannot read them without CORS headers anyway).
      const read = await app.inject({
        method: 'GET',
        url: '/processes',
        headers: { origin: EVIL },
      });
      assert.equal(read.statusCode, 200);
    } finally {
      await app.close();
    }
  });

  test('same origin, no Origin (curl), and --allowed-origins may write', async () => {
    const sim = new FakeSim([1]);
    const app = await appWith(sim, { allowedOrigins: 'http://grafana.example:3000' });
    try {
      for (const origin of [undefined, 'http://localhost', 'http://grafana.example:3000']) {
        const r = await app.inject({
          method: 'POST',
          url: '/processes/1/fork',
          headers: origin ? { origin } : {},
        });
        assert.equal(r.statusCode, 201, `${origin}: ${r.body}`);
      }
      const evil = await app.inject({
        method: 'POST',
        url: '/processes/1/fork',
        headers: { origin: EVIL },
      });
      assert.equal(evil.statusCode, 403);
    } finally {
      await app.close();
    }
  });

  test('/ws refuses a foreign Origin and accepts its own', async () => {
    const app = await appWith(new FakeSim([1]));
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (app.server.address() as { port: number }).port;
      const url = `ws://127.0.0.1:${port}/ws`;
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(url, { origin: EVIL });
        ws.on('unexpected-response', (_req, res) => {
          resolve(res.statusCode ?? 0);
          ws.terminate();
        });
        ws.on('open', () => reject(new Error('a foreign Origin opened /ws')));
        ws.on('error', () => {});
      });
      assert.equal(status, 403);
      const own = new WebSocket(url, { origin: `http://127.0.0.1:${port}` });
      await new Promise((resolve, reject) => {
        own.on('open', resolve);
        own.on('error', reject);
      });
      own.close();
    } finally {
      await app.close();
    }
  });
});

describe('Host', () => {
  test('a rebinding Host is 403 on every route but /healthz', async () => {
    const app = await appWith(new FakeSim([1]));
    try {
      const r = await app.inject({
        method: 'GET',
        url: '/processes',
        headers: { host: 'evil.example' },
      });
      assert.equal(r.statusCode, 403);
      assert.equal(r.json().error, 'EACCES');
      const health = await app.inject({
        method: 'GET',
        url: '/healthz',
        headers: { host: 'evil.example' },
      });
      assert.equal(health.statusCode, 200);
      for (const host of ['localhost:8080', '127.0.0.1:8080', '[::1]:8080', 'LOCALHOST']) {
        const ok = await app.inject({ method: 'GET', url: '/processes', headers: { host } });
        assert.equal(ok.statusCode, 200, host);
      }
    } finally {
      await app.close();
    }
  });

  test('allowed names: listen address, --allowed-hosts, any on 0.0.0.0', () => {
    assert.equal(hostName('[::1]:80'), '::1');
    assert.equal(hostName('Example.COM:8080'), 'example.com');
    assert.deepEqual(
      [...(allowedHostNames(defaultConfig({ host: '10.1.2.3' })) ?? [])],
      ['10.1.2.3'],
    );
    assert.equal(allowedHostNames(defaultConfig({ host: '0.0.0.0' })), null);
    assert.equal(allowedHostNames(defaultConfig({ host: '127.0.0.1', allowedHosts: '*' })), null);
    assert.deepEqual(
      [
        ...(allowedHostNames(defaultConfig({ host: '0.0.0.0', allowedHosts: 'sim.lab, [::1]' })) ??
          []),
      ],
      ['sim.lab', '::1'],
    );
  });
});
