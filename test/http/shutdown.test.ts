/**
 * Graceful shutdown of the real server: SIGTERM while a maps read is in flight (its client has
 * stopped reading, so the server cannot finish it early); the server stops accepting new
 * connections, the in-flight response still completes byte for byte, and the process exits 0.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startServer } from './server-process.js';

/** A maps text of `n` anonymous VMAs that cannot merge (alternating prot). */
function bigMaps(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const start = 0x100000000 + i * 0x2000;
    const perms = i % 2 === 0 ? 'rw-p' : 'r--p';
    lines.push(`${start.toString(16)}-${(start + 0x1000).toString(16)} ${perms} 00000000 00:00 0 `);
  }
  lines.push(`ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0${' '.repeat(18)}[vsyscall]`);
  return `${lines.join('\n')}\n`;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

for (const cpus of ['2', '0'])
  test(`--cpus ${cpus}: SIGTERM drops no in-flight request`, async (t) => {
    // Building a 30,000-VMA process lags the event loop; overload 503s are not under test here.
    const server = await startServer([
      ...['--cpus', cpus, '--population', '0', '--log-level', 'info'],
      ...['--max-event-loop-delay-ms', '0'],
    ]);
    // Never leave a server behind when an assertion fails.
    t.after(() => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    });
    const created = (await (
      await fetch(`${server.base}/processes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ maps: bigMaps(30_000) }),
      })
    ).json()) as { pid: number };
    const whole = await fetch(`${server.base}/proc/${created.pid}/maps?chunk=0`);
    assert.equal(whole.status, 200);
    const expected = await whole.text();
    assert.ok(expected.length > 1_000_000, `only ${expected.length} bytes`);

    // Start a chunked read and stop consuming it as soon as the headers are in.
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = request(`${server.base}/proc/${created.pid}/maps?chunk=4096`, resolve);
      req.once('error', reject);
      req.end();
    });
    assert.equal(res.statusCode, 200);
    res.pause();
    const parts: Buffer[] = [];
    res.on('data', (d: Buffer) => parts.push(d));
    const ended = new Promise<void>((resolve, reject) => {
      res.once('end', resolve);
      res.once('error', reject);
    });

    server.child.kill('SIGTERM');
    // The listener closes first; wait for that (each probe is a real connection attempt).
    for (let i = 0; i < 10_000 && !(await refused(server.port)); i++);
    assert.equal(await refused(server.port), true);
    // The log line comes through a pipe and may trail the closed listener.
    await server.waitForLog(/closing/);

    res.resume();
    await ended;
    assert.equal(Buffer.concat(parts).toString('utf8'), expected);
    assert.equal(await server.exited, 0);
  });
