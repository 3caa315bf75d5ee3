/**
 * The HTTP fuzzer (issue 11, "What to build" 2): fast-check requests to every route of the app's
 * route table — wrong types, edge and overflowing u64s (0, 2^53, 2^63, TASK_SIZE, 2^64-1, … as
 * numbers, decimal and hex strings), unaligned and wrapping ranges, huge arrays, deep JSON,
 * control bytes in names, foreign Origins, odd content types, malformed pids and query strings.
 * Every answer: no 5xx, errors in the errno shape, the victim's maps and the process count
 * unchanged after every error answer (bench/robustness/hostile-client.ts has the checks and the
 * documented exceptions where Linux applies part of a call). Seeded: the seed is printed;
 * FUZZ_SEED=n and FUZZ_RUNS=n change it and the requests per route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { type FuzzFixture, fuzzFixture, fuzzSeed } from '../../bench/robustness/fuzz-fixture.js';
import {
  routeRequests,
  routeRuns,
  routeSpecs,
  unknownRouteRequests,
} from '../../bench/robustness/http-requests.js';
import { routeKeyString, routeTable } from '../../bench/robustness/route-table.js';

const SEED = fuzzSeed();
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

describe('HTTP fuzz over every route', () => {
  let fx: FuzzFixture;
  before(async () => {
    fx = await fuzzFixture();
    console.log(`# fuzz seed ${SEED}, ${RUNS} requests per route (FUZZ_SEED, FUZZ_RUNS)`);
  });
  after(async () => {
    const t = fx.client.tally;
    console.log(
      `# ${t.tried} requests: ${JSON.stringify(t.classes)}; victim checked unchanged after ${t.unchangedChecks} error answers, ${t.partialErrors} partial errors (as Linux); known open elsewhere: ${JSON.stringify(t.knownOpen)}`,
    );
    await fx.close();
  });

  test('the route table is what the fuzzer covers: every route has a spec', () => {
    const routes = routeTable(fx.app).map(routeKeyString);
    assert.ok(
      routes.includes('GET /proc/:pid/maps') && routes.includes('POST /proc/:pid/syscalls'),
      `route table not read: ${routes.join(', ')}`,
    );
    const specs = routeSpecs(fx.shapes);
    const missing = routes.filter((r) => !specs.has(r));
    assert.deepEqual(
      missing,
      [],
      `routes without fuzz coverage (add them to bench/robustness/http-requests.ts): ${missing.join(', ')}`,
    );
    console.log(`# ${routes.length} routes (method + pattern) in the route table, all fuzzed`);
  });

  test('hostile requests: no 5xx, errno shape, nothing changed by a refused request', async () => {
    const specs = routeSpecs(fx.shapes);
    const routes = routeTable(fx.app).map(routeKeyString);
    for (const [i, route] of routes.entries()) {
      const spec = specs.get(route)!;
      await fc.assert(
        fc.asyncProperty(routeRequests(route, spec), async (r) => {
          const v = await fx.client.send(r);
          if (v) throw new Error(v);
        }),
        { seed: SEED + i, includeErrorInReport: true, numRuns: routeRuns(route, spec, RUNS) },
      );
    }
    await fc.assert(
      fc.asyncProperty(unknownRouteRequests, async (r) => {
        const v = await fx.client.send(r);
        if (v) throw new Error(v);
      }),
      { seed: SEED, includeErrorInReport: true, numRuns: 30 },
    );
    assert.deepEqual(fx.client.tally.violations, []);
    assert.ok(
      fx.client.tally.classes['2xx'] > 0 && fx.client.tally.unchangedChecks > 0,
      'the fuzz reached both successes and refusals',
    );
  });
});
