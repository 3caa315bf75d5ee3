// Strategy A/B: the same read load split evenly across STRATEGIES (default: all five), each
// its own scenario overriding the strategy per request with `?strategy=`, all at once against
// the same processes while mutators and a busy process change them. Compare the strategies
// side by side in the k6 summary (`{strategy:NAME}` sub-metrics) and in Grafana.
//
//   k6 run -e STRATEGIES=per_vma,lockless -e READ_RATE=400 deploy/k6/strategy-ab.js
import { BUSY_PROFILE, READ_RATE, STRATEGIES, WRITE_RATE } from './lib/config.js';
import { finishRun, mutateSomething, prepareRun, readSomething } from './lib/procfs.js';
import { arrivalRate } from './lib/scenarios.js';

/** @type {{ [name: string]: import('k6/options').Scenario }} */
const scenarios = {
  mutators: arrivalRate('mutate', WRITE_RATE),
};
/** @type {{ [metric: string]: string[] }} */
const thresholds = {
  http_req_failed: ['rate<0.01'],
  checks: ['rate>0.99'],
};
for (const strategy of STRATEGIES) {
  scenarios[`read_${strategy}`] = arrivalRate(
    'read',
    READ_RATE / STRATEGIES.length,
    { strategy },
    { READ_STRATEGY: strategy },
  );
  // One sub-metric per strategy, so the summary lists them side by side.
  thresholds[`http_req_duration{strategy:${strategy}}`] = ['p(95)<100'];
}

/** @type {import('k6/options').Options} */
export const options = { scenarios, thresholds };

export function setup() {
  return prepareRun(BUSY_PROFILE);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function read(data) {
  readSomething(data, __ENV.READ_STRATEGY ?? '');
}

/** @param {import('./lib/procfs.js').RunData} data */
export function mutate(data) {
  mutateSomething(data);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function teardown(data) {
  finishRun(data);
}
