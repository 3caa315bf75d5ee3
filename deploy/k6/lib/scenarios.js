// Scenario and threshold builders shared by the scripts. Readers and mutators use the
// constant-arrival-rate executor (an open model: requests keep arriving at the set rate even
// when the service slows down, so latency under contention is not hidden by fewer requests).
import { DURATION, MAX_VUS, PRE_VUS } from './config.js';

/** @typedef {import('k6/options').Scenario} Scenario */

/**
 * @param {string} exec name of the exported function each iteration runs
 * @param {number} rate iterations per second
 * @param {{ [name: string]: string }} [tags] tags added to every request of the scenario
 * @param {{ [name: string]: string }} [env] extra __ENV for the scenario's VUs
 * @returns {Scenario}
 */
export function arrivalRate(exec, rate, tags = {}, env = {}) {
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate: Math.max(1, Math.round(rate)),
    timeUnit: '1s',
    duration: DURATION,
    preAllocatedVUs: PRE_VUS,
    maxVUs: MAX_VUS,
    tags,
    env,
  };
}

/**
 * Thresholds every scenario keeps: few failed requests, and p95/p99 latency per route. A failed
 * threshold makes `k6 run` exit non-zero.
 * @param {{ mapsP95Ms: number, queryP95Ms: number, mutationP95Ms: number }} limits
 * @returns {{ [metric: string]: string[] }}
 */
export function routeThresholds(limits) {
  return {
    http_req_failed: ['rate<0.01'],
    checks: ['rate>0.99'],
    'http_req_duration{name:GET /proc/:pid/maps}': [`p(95)<${limits.mapsP95Ms}`],
    'http_req_duration{name:GET /proc/:pid/procmap_query}': [`p(95)<${limits.queryP95Ms}`],
    'http_req_duration{name:POST /proc/:pid/mmap}': [`p(95)<${limits.mutationP95Ms}`],
    'http_req_duration{name:POST /proc/:pid/munmap}': [`p(95)<${limits.mutationP95Ms}`],
  };
}
