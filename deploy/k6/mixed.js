// Mixed: readers at READ_RATE/s and mutators at WRITE_RATE/s together, with one scratch process
// busy (BUSY_PROFILE, default mmap_churn): the load the Grafana dashboard is designed around.
// This is the docker-compose k6 profile's default scenario.
//
//   k6 run -o experimental-prometheus-rw -e BASE_URL=http://127.0.0.1:8080 deploy/k6/mixed.js
import { BUSY_PROFILE, READ_RATE, STRATEGY, WRITE_RATE } from './lib/config.js';
import { finishRun, mutateSomething, prepareRun, readSomething } from './lib/procfs.js';
import { arrivalRate, routeThresholds } from './lib/scenarios.js';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    readers: arrivalRate('read', READ_RATE),
    mutators: arrivalRate('mutate', WRITE_RATE),
  },
  thresholds: routeThresholds({ mapsP95Ms: 75, queryP95Ms: 30, mutationP95Ms: 50 }),
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
