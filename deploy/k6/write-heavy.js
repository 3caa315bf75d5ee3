// Write-heavy: mutation sequences (mmap, mprotect split, anon_name, munmap) at WRITE_RATE/s
// (default 20; try 200) on scratch processes, with readers at a tenth of READ_RATE reading the
// same processes, so reads meet the mmap write lock and VMA changes all the time.
//
//   k6 run -e WRITE_RATE=200 -e DURATION=1m deploy/k6/write-heavy.js
import { BUSY_PROFILE, READ_RATE, STRATEGY, WRITE_RATE } from './lib/config.js';
import { finishRun, mutateSomething, prepareRun, readSomething } from './lib/procfs.js';
import { arrivalRate, routeThresholds } from './lib/scenarios.js';

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    mutators: arrivalRate('mutate', WRITE_RATE),
    readers: arrivalRate('read', READ_RATE / 10),
  },
  thresholds: routeThresholds({ mapsP95Ms: 100, queryP95Ms: 50, mutationP95Ms: 50 }),
};

export function setup() {
  return prepareRun(BUSY_PROFILE);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function mutate(data) {
  mutateSomething(data);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function read(data) {
  readSomething(data, STRATEGY);
}

/** @param {import('./lib/procfs.js').RunData} data */
export function teardown(data) {
  finishRun(data);
}
