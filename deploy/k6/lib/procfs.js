// HTTP helpers for procfs-sim (routes and bodies as in the API contract). Every request carries a
// `name` tag with the route pattern, e.g. 'GET /proc/:pid/maps', so per-pid URLs aggregate into
// one k6 time series instead of one per pid.
import { check, fail } from 'k6';
import http from 'k6/http';
import {
  AUTH_HEADERS,
  BASE_URL,
  BATCH_SIZE,
  POPULATION_SAMPLE,
  SCRATCH_PROCESSES,
} from './config.js';

/**
 * One process the readers may read: its pid and a few addresses inside its VMAs.
 * @typedef {{ pid: number, addrs: string[] }} Target
 */

/**
 * What setup() hands every VU: targets to read, and scratch pids that mutators may change.
 * @typedef {{ readTargets: Target[], scratchPids: number[] }} RunData
 */

const JSON_HEADERS = { 'Content-Type': 'application/json', ...AUTH_HEADERS };
/** Queries may legitimately answer 404 ENOENT (no VMA at or after the address). */
const QUERY_STATUSES = http.expectedStatuses(200, 404);

/**
 * @param {string} name route pattern used as the request's `name` tag
 * @param {string} strategy locking strategy override, or '' for the configured one
 * @returns {{ [name: string]: string }}
 */
function tags(name, strategy) {
  return strategy === '' ? { name } : { name, strategy };
}

/**
 * @param {string} strategy
 * @returns {string} `strategy=NAME` for a query string, or '' for no override
 */
function strategyParam(strategy) {
  return strategy === '' ? '' : `strategy=${encodeURIComponent(strategy)}`;
}

/**
 * @template T
 * @param {readonly T[]} items
 * @returns {T}
 */
export function pick(items) {
  if (items.length === 0) fail('nothing to pick from');
  return items[Math.floor(Math.random() * items.length)];
}

/**
 * Start addresses (as `0x…` strings) of user-space VMAs in a maps text; the gate VMA
 * (`[vsyscall]`, above 2^53) is left out because k6 numbers cannot hold it exactly.
 * @param {string} mapsText
 * @returns {string[]}
 */
export function vmaAddresses(mapsText) {
  /** @type {string[]} */
  const addrs = [];
  for (const line of mapsText.split('\n')) {
    const dash = line.indexOf('-');
    if (dash <= 0 || dash > 12) continue;
    addrs.push(`0x${line.slice(0, dash)}`);
  }
  return addrs;
}

/**
 * @param {number} limit
 * @returns {number[]} pids of the first `limit` processes
 */
export function listPids(limit) {
  const res = http.get(`${BASE_URL}/processes?offset=0&limit=${limit}`, {
    headers: AUTH_HEADERS,
    tags: { name: 'GET /processes' },
  });
  if (res.status !== 200) fail(`GET /processes answered ${res.status}: ${res.body}`);
  const body = /** @type {{ processes: { pid: number }[] }} */ (res.json());
  return body.processes.map((p) => p.pid);
}

/**
 * @param {string} comm
 * @param {string} template
 * @returns {number} pid of the new process
 */
export function createProcess(comm, template) {
  const res = http.post(`${BASE_URL}/processes`, JSON.stringify({ comm, template }), {
    headers: JSON_HEADERS,
    tags: { name: 'POST /processes' },
  });
  if (res.status !== 201) fail(`POST /processes answered ${res.status}: ${res.body}`);
  return /** @type {{ pid: number }} */ (res.json()).pid;
}

/**
 * Make a process busy with a built-in activity profile (mmap_churn, jit, malloc, thread_stacks).
 * @param {number} pid
 * @param {string} profile
 */
export function startActivity(pid, profile) {
  const res = http.put(`${BASE_URL}/processes/${pid}/activity`, JSON.stringify({ profile }), {
    headers: JSON_HEADERS,
    tags: { name: 'PUT /processes/:pid/activity' },
  });
  check(res, { 'activity started': (r) => r.status === 200 });
}

/** @param {number} pid */
export function deleteProcess(pid) {
  http.del(`${BASE_URL}/processes/${pid}`, null, {
    headers: AUTH_HEADERS,
    tags: { name: 'DELETE /processes/:pid' },
  });
}

/**
 * @param {number} pid
 * @param {string} strategy
 * @returns {string} the maps text ('' on error)
 */
export function readMaps(pid, strategy) {
  const q = strategyParam(strategy);
  const res = http.get(`${BASE_URL}/proc/${pid}/maps${q === '' ? '' : `?${q}`}`, {
    headers: AUTH_HEADERS,
    tags: tags('GET /proc/:pid/maps', strategy),
  });
  check(res, {
    'maps 200': (r) => r.status === 200,
    'maps ends with a newline': (r) => typeof r.body === 'string' && r.body.endsWith('\n'),
  });
  return typeof res.body === 'string' ? res.body : '';
}

/**
 * One PROCMAP_QUERY for the VMA covering `addr` or the next one.
 * @param {number} pid
 * @param {string} addr
 * @param {string} strategy
 */
export function pointQuery(pid, addr, strategy) {
  const q = strategyParam(strategy);
  const url = `${BASE_URL}/proc/${pid}/procmap_query?addr=${addr}&flags=COVERING_OR_NEXT_VMA${q === '' ? '' : `&${q}`}`;
  const res = http.get(url, {
    headers: AUTH_HEADERS,
    tags: tags('GET /proc/:pid/procmap_query', strategy),
    responseCallback: QUERY_STATUSES,
  });
  check(res, { 'query 200 or ENOENT': (r) => r.status === 200 || r.status === 404 });
}

/**
 * A batch of BATCH_SIZE queries at the target's addresses.
 * @param {Target} target
 * @param {string} strategy
 */
export function batchQuery(target, strategy) {
  const queries = [];
  for (let i = 0; i < BATCH_SIZE; i++) {
    queries.push({ addr: pick(target.addrs), flags: 'COVERING_OR_NEXT_VMA' });
  }
  const q = strategyParam(strategy);
  const res = http.post(
    `${BASE_URL}/proc/${target.pid}/procmap_query${q === '' ? '' : `?${q}`}`,
    JSON.stringify({ queries }),
    { headers: JSON_HEADERS, tags: tags('POST /proc/:pid/procmap_query', strategy) },
  );
  check(res, { 'batch query 200': (r) => r.status === 200 });
}

/**
 * A read mix: half whole maps reads, 40 % point queries, 10 % batch queries.
 * @param {RunData} data
 * @param {string} strategy
 */
export function readSomething(data, strategy) {
  const target = pick(data.readTargets);
  const dice = Math.random();
  if (dice < 0.5) readMaps(target.pid, strategy);
  else if (dice < 0.9) pointQuery(target.pid, pick(target.addrs), strategy);
  else batchQuery(target, strategy);
}

/**
 * @param {number} pid
 * @param {string} op
 * @param {object} body
 * @returns {import('k6/http').RefinedResponse<'text'>}
 */
function mutate(pid, op, body) {
  const res = http.post(`${BASE_URL}/proc/${pid}/${op}`, JSON.stringify(body), {
    headers: JSON_HEADERS,
    tags: { name: `POST /proc/:pid/${op}` },
  });
  check(res, { [`${op} 200`]: (r) => r.status === 200 });
  return res;
}

/**
 * One mutation sequence on a scratch process, the kind that splits and merges VMAs under the
 * readers: map 16 pages, make 4 of them read-only (a split), name the range, unmap it.
 * @param {RunData} data
 */
export function mutateSomething(data) {
  if (data.scratchPids.length === 0) return; // SCRATCH_PROCESSES=0: nothing we may change
  const pid = pick(data.scratchPids);
  const length = '0x10000';
  const res = mutate(pid, 'mmap', { length, prot: 'rw-', flags: ['private', 'anonymous'] });
  if (res.status !== 200) return;
  const addr = /** @type {{ addr: string }} */ (res.json()).addr;
  mutate(pid, 'mprotect', { addr, length: '0x4000', prot: 'r--' });
  mutate(pid, 'anon_name', { addr, length, name: 'k6' });
  mutate(pid, 'munmap', { addr, length });
}

/**
 * setup(): create scratch processes (one of them busy with `busyProfile`), sample the built-in
 * population, and collect addresses to query in each.
 * @param {string} busyProfile activity profile, or 'none'
 * @returns {RunData}
 */
export function prepareRun(busyProfile) {
  /** @type {number[]} */
  const scratchPids = [];
  for (let i = 0; i < SCRATCH_PROCESSES; i++) {
    scratchPids.push(createProcess(`k6-scratch-${i}`, i % 2 === 0 ? 'node' : 'bash'));
  }
  if (busyProfile !== 'none' && scratchPids.length > 0) startActivity(scratchPids[0], busyProfile);
  const pids = [...listPids(POPULATION_SAMPLE), ...scratchPids];
  /** @type {Target[]} */
  const readTargets = [];
  for (const pid of new Set(pids)) {
    const addrs = vmaAddresses(readMaps(pid, ''));
    if (addrs.length > 0) readTargets.push({ pid, addrs });
  }
  if (readTargets.length === 0) fail('no readable process: is the service populated?');
  return { readTargets, scratchPids };
}

/**
 * teardown(): remove the scratch processes (which also stops their activity).
 * @param {RunData} data
 */
export function finishRun(data) {
  for (const pid of data.scratchPids) deleteProcess(pid);
}
