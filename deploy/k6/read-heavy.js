// Read-heavy: many readers (maps, point and batch queries) at READ_RATE/s against the population
// and a few scratch processes, while a trickle of mutations (WRITE_RATE/s, default 5) and one
// busy process change address spaces underneath them.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e READ_RATE=500 -e DURATION=2m deploy/k6/read-heavy.js
import { BUSY_PROFILE, READ_RATE, STRATEGY, WRITE_RATE } from './lib/config.js';
import { finishRun, mutateSomething, prepareRun, readSomething } from './lib/procfs.js';
import { arrivalRate, routeThresholds } from './lib/scenarios.js';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    readers: arrivalRate('read', READ_RATE),
    mutators: arrivalRate('mutate', Math.min(WRITE_RATE, 5)),
  },
  thresholds: routeThresholds({ mapsP95Ms: 50, queryP95Ms: 20, mutationP95Ms: 50 }),
};

export function setup() {
  return prepareRun(BUSY_PROFILE);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function read(data) {
  readSomething(data, STRATEGY);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function mutate(data) {
  mutateSomething(data);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function teardown(data) {
  finishRun(data);
}
