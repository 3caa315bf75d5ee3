/**
 * The page in a real browser (headless Debian chromium through playwright-core) against the real
 * server (`dist/src/server.js`, worker CPUs, a small population with busy processes): the first
 * view shows a busy process; picking another busy one shows its address space; the strip equals
 * /proc/PID/maps VMA for VMA (once its activity is stopped, so there is one maps to compare); an
 * mmap made through the API shows up as a flashing VMA within a second; the strategy switch moves
 * the service's strategy and "read maps now" reads under it, chunk by chunk, and that strategy's
 * own read counter moves. Any console error fails the test. A screenshot goes to .tmp/page.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningServer, repoRoot, startServer, stopServer } from '../http/server-process.js';
import { type OpenPage, openPage } from './browser.js';

/** What the page must classify each maps name as (the legend's kinds). */
function kindOf(name: string): string {
  if (name === '') return 'anon';
  if (name === '[stack]') return 'stack';
  if (name === '[heap]') return 'heap';
  if (name.startsWith('[anon:') || name.startsWith('[anon_shmem:')) return 'named';
  if (name.startsWith('[')) return 'special';
  return 'file';
}

function vmasOf(maps: string): string[] {
  return maps
    .trimEnd()
    .split('\n')
    .map((line) => {
      const [range, , , , , ...rest] = line.split(/ +/);
      const [start, end] = range.split('-');
      return `${start}-${end} ${kindOf(rest.join(' '))}`;
    });
}

describe('the page in headless chromium', { timeout: 90_000 }, () => {
  let server: RunningServer;
  let ui: OpenPage;
  const get = async (path: string) => {
    const r = await fetch(`${server.base}${path}`);
    assert.equal(r.status, 200, `${path}: ${r.status}`);
    return r;
  };

  before(async () => {
    // --cpus pinned: the same test on 2 and 16 cores. No load shedding on event-loop delay: a
    // loaded CI machine would answer 503s the page shows as errors (shedding: test/http).
    server = await startServer([
      '--population',
      '12',
      '--cpus',
      '2',
      '--max-event-loop-delay-ms',
      '0',
    ]);
    ui = await openPage(`${server.base}/`);
  });
  after(async () => {
    await ui?.browser.close();
    if (server) await stopServer(server);
  });

  test('population, a busy process, a mapping appearing live, a traced read', async () => {
    const { page } = ui;
    // First view: the first busy process (pid 2, a JIT), never an empty page.
    await page.waitForSelector('#strip[data-pid="2"] .vma', { timeout: 20_000 });
    const rows = await page.$$eval('#proc-rows tr', (trs) => trs.length);
    assert.equal(rows, 12);
    const busy = await page.$$eval('#proc-rows tr[data-busy]', (trs) =>
      trs.map((tr) => Number(tr.getAttribute('data-pid'))),
    );
    assert.deepEqual(busy, [2, 10]);

    // Search, then pick the other busy process (malloc).
    await page.fill('#search', '10');
    assert.equal(await page.$$eval('#proc-rows tr', (trs) => trs.length), 1);
    await page.click('#proc-rows tr[data-pid="10"]');
    await page.waitForSelector('#strip[data-pid="10"] .vma', { timeout: 10_000 });
    assert.match((await page.textContent('#title')) ?? '', /pid 10 .*busy: malloc/);

    // Stop its activity so there is one maps to compare, then the strip must equal it.
    const stop = await fetch(`${server.base}/processes/10/activity`, { method: 'DELETE' });
    assert.equal(stop.status, 204);
    const maps = vmasOf(await (await get('/proc/10/maps')).text());
    // (A string: this runs in the page, where the DOM is.)
    await page.waitForFunction(
      `JSON.stringify([...document.querySelectorAll('#strip .vma')].map(
         (v) => v.dataset.start + '-' + v.dataset.end + ' ' + v.dataset.kind)) === ${JSON.stringify(JSON.stringify(maps))}`,
      undefined,
      { timeout: 10_000 },
    );
    assert.equal(await page.$$eval('#maps .line', (l) => l.length), maps.length);

    // An mmap through the API (a file mapping: it merges with nothing) is on the page within 1 s.
    const res = await fetch(`${server.base}/proc/10/mmap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        length: '0x3000',
        prot: 'r--',
        flags: ['private'],
        path: '/usr/lib/page-test.so',
        dev: 'fe:01',
        inode: 4242,
      }),
    });
    assert.equal(res.status, 200);
    const addr = BigInt(((await res.json()) as { addr: string }).addr)
      .toString(16)
      .padStart(8, '0');
    const shownAt = Date.now();
    await page.waitForSelector(`#strip .vma[data-start="${addr}"][data-kind="file"]`, {
      timeout: 1000,
    });
    assert.ok(Date.now() - shownAt <= 1000);
    const line = await page.textContent('#maps .line.flash');
    assert.match(
      line ?? '',
      new RegExp(`^${addr}-\\S+ r--p 00000000 fe:01 4242 +/usr/lib/page-test.so`),
    );

    // Switch the service's strategy on the page, then read maps now under it.
    const before = await readsOf('snapshot');
    await page.click('nav button[data-strategy="snapshot"]');
    await page.waitForSelector('nav button.on[data-strategy="snapshot"]', { timeout: 5000 });
    assert.equal(
      ((await (await get('/config')).json()) as { strategy: string }).strategy,
      'snapshot',
    );
    await page.selectOption('#reader select[title]', '1024');
    await page.click('#read-now');
    await page.waitForSelector('#read-summary[data-strategy="snapshot"]', { timeout: 5000 });
    const chunks = await page.$$eval('#chunks tbody tr', (trs) =>
      trs.map((tr) => Number(tr.children[2].textContent)),
    );
    // 1 KiB chunks of whole lines: several chunks, their lines adding up to the file's.
    assert.ok(chunks.length > 3, `${chunks.length} chunks`);
    assert.equal(
      chunks.reduce((a, b) => a + b, 0),
      maps.length + 1,
    );
    assert.equal(await page.$$eval('#strip .chunk-mark', (m) => m.length), chunks.length);
    assert.ok((await readsOf('snapshot')) > before, 'snapshot maps reads counted');

    mkdirSync(join(repoRoot(), '.tmp'), { recursive: true });
    const strip = await page.locator('#strip').boundingBox();
    assert.ok(strip);
    await page.mouse.move(strip.x + strip.width / 2, strip.y + strip.height * 0.3);
    await page.waitForSelector('#hover pre', { timeout: 5000 });
    await page.screenshot({ path: join(repoRoot(), '.tmp', 'page.png') });
    assert.deepEqual(ui.errors, []);
  });

  async function readsOf(strategy: string): Promise<number> {
    const text = await (await get('/metrics')).text();
    const m = new RegExp(`^procfs_reads_total\\{op="maps",strategy="${strategy}"\\} (\\d+)`, 'm');
    return Number(m.exec(text)?.[1] ?? 0);
  }
});
