/**
 * `GET /` and `/ui/…` (the page's static files, built into dist/ui by npm run build) and how they
 * sit with `--token`: served without it (they hold no data; the page is told to ask for the
 * token), while every API call still needs it — on /ws also as the `bearer.<base64url>`
 * subprotocol a browser can send.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { FakeSim } from './fake-sim.js';
import { appWith } from './helpers.js';

describe('the page routes', () => {
  let open: FastifyInstance;
  let guarded: FastifyInstance;
  before(async () => {
    open = await appWith(new FakeSim([1]));
    guarded = await appWith(new FakeSim([1]), { token: 's3cret' });
    await guarded.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await open?.close();
    await guarded?.close();
  });

  test('GET / is the page; its assets are under /ui/ with their content types', async () => {
    const page = await open.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /<script type="module" src="\/ui\/main.js">/);
    assert.doesNotMatch(page.body, /data-token/);
    const js = await open.inject({ url: '/ui/main.js' });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /^text\/javascript/);
    const css = await open.inject({ url: '/ui/page.css' });
    assert.match(String(css.headers['content-type']), /^text\/css/);
  });

  test('an unknown asset is 404 ENOENT; no path reaches the disk', async () => {
    for (const url of ['/ui/nope.js', '/ui/..%2Fpackage.json', '/ui/%2e%2e%2fsrc%2fapp.js']) {
      const r = await open.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.equal(r.json().error, 'ENOENT');
    }
  });

  test('--token: the page and assets need none (the page is told to ask), the API does', async () => {
    const page = await guarded.inject({ url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<html lang="en" data-token="required">/);
    assert.equal((await guarded.inject({ url: '/ui/main.js' })).statusCode, 200);
    assert.equal((await guarded.inject({ url: '/processes' })).statusCode, 401);
    const withToken = await guarded.inject({
      url: '/processes',
      headers: { authorization: 'Bearer s3cret' },
    });
    assert.equal(withToken.statusCode, 200);
  });

  test('--token: /ws accepts the token as a bearer.<base64url> subprotocol, not a wrong one', async () => {
    const { port } = guarded.server.address() as { port: number };
    const url = `ws://127.0.0.1:${port}/ws`;
    const good = new WebSocket(url, [
      'procfs-sim',
      `bearer.${Buffer.from('s3cret').toString('base64url')}`,
    ]);
    await once(good, 'open');
    assert.equal(good.protocol, 'procfs-sim');
    good.send(JSON.stringify({ id: 1, op: 'config' }));
    const [reply] = await once(good, 'message');
    assert.equal(JSON.parse(String(reply)).id, 1);
    good.close();
    for (const protocols of [
      ['procfs-sim', `bearer.${Buffer.from('wrong').toString('base64url')}`],
      ['procfs-sim'],
    ]) {
      const bad = new WebSocket(url, protocols);
      const [, res] = await once(bad, 'unexpected-response');
      assert.equal(res.statusCode, 401);
      bad.on('error', () => {});
      bad.terminate();
    }
  });
});
