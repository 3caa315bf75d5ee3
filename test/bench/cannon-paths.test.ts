/**
 * autocannon over a list of paths (bench/http/cannon-paths.ts, through bench/lib/processes.ts):
 * the HTTP bench's each-VMA diagnostic depends on every request asking for the next path.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { autocannon } from '../../bench/lib/processes.js';

test('each request asks for the next path of the list, in turn', async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const paths = ['/a?x=1', '/b', '/c/d'];
  try {
    const r = await autocannon(`http://127.0.0.1:${port}`, 1, 1, { paths });
    assert.equal(r.errors, 0);
    assert.equal(r.non2xx, 0);
    assert.ok(r.total >= 3 && seen.length >= r.total, `${r.total} requests, ${seen.length} seen`);
    // One connection: the server saw the list in order, again and again.
    for (const [i, url] of seen.entries())
      assert.equal(url, paths[i % paths.length], `request ${i}`);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
