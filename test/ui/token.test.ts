/**
 * The page behind `--token` in headless chromium: it asks for the token once, then every HTTP
 * call and the WebSocket carry it (the address space is drawn from /ws reads, the process list
 * from HTTP). No console errors: the page never makes a call it knows will be refused.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Sim } from '../../src/cpus/sim.js';
import { appWith, testConfig } from '../http/helpers.js';
import { type OpenPage, openPage } from './browser.js';

let app: FastifyInstance;
let ui: OpenPage;

before(async () => {
  const sim = await Sim.start({ ...testConfig(), cpus: 0, population: 3 });
  app = await appWith(sim, { token: 'kernel token/+=' });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  ui = await openPage(`${address}/`);
});
after(async () => {
  await ui?.browser.close();
  await app?.close();
});

test('with --token the page asks once, then HTTP and /ws both work', {
  timeout: 60_000,
}, async () => {
  const { page } = ui;
  await page.waitForSelector('#token-dialog[open]', { timeout: 10_000 });
  await page.fill('#token-input', 'kernel token/+=');
  await page.press('#token-input', 'Enter');
  await page.waitForSelector('#conn.up', { timeout: 10_000 });
  await page.waitForSelector('#strip[data-pid] .vma', { timeout: 10_000 });
  assert.equal(await page.$$eval('#proc-rows tr', (trs) => trs.length), 3);
  assert.deepEqual(ui.errors, []);
});
