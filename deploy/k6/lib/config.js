// Configuration shared by every scenario, from k6's environment (`k6 run -e NAME=value` or the
// process environment). Every knob has a default that works against `npm start` on this host.

/**
 * @param {string} name
 * @param {number} fallback
 * @returns {number}
 */
function numberEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a number >= 0, got ${raw}`);
  return value;
}

/**
 * @param {string} name
 * @param {string} fallback
 * @returns {string}
 */
function stringEnv(name, fallback) {
  const raw = __ENV[name];
  return raw === undefined || raw === '' ? fallback : raw;
}

/**
 * Base URL of the procfs-sim service, without a trailing slash: one replica, or the sharded proxy
 * (deploy/k8s/sharded), which routes every pid to its replica so any k6 parallelism works.
 */
export const BASE_URL = stringEnv('BASE_URL', 'http://127.0.0.1:8080').replace(/\/+$/, '');
/**
 * The service's bearer token (`--token`/`--token-file`): `TOKEN`, or the contents of the file
 * `TOKEN_FILE` names (compose mounts the secret there); empty = the service runs without one.
 */
export const TOKEN = (
  stringEnv('TOKEN', '') || (stringEnv('TOKEN_FILE', '') === '' ? '' : open(__ENV.TOKEN_FILE))
).trim();
/**
 * Authorization header for every request (none without a token).
 * @type {Record<string, string>}
 */
export const AUTH_HEADERS = TOKEN === '' ? {} : { Authorization: `Bearer ${TOKEN}` };
/** How long each scenario runs (k6 duration syntax: `30s`, `2m`). */
export const DURATION = stringEnv('DURATION', '1m');
/** Read requests per second (maps, point and batch queries together), across all readers. */
export const READ_RATE = numberEnv('READ_RATE', 200);
/** Mutation sequences per second (each is mmap, mprotect, anon_name, munmap). */
export const WRITE_RATE = numberEnv('WRITE_RATE', 20);
/** Virtual users k6 starts with / may grow to, per arrival-rate scenario. */
export const PRE_VUS = numberEnv('PRE_VUS', 20);
export const MAX_VUS = numberEnv('MAX_VUS', 200);
/** Scratch processes created for the run: mutated by the mutators and read by the readers. */
export const SCRATCH_PROCESSES = numberEnv('SCRATCH_PROCESSES', 4);
/** Built-in population processes that readers also read (never mutated). */
export const POPULATION_SAMPLE = numberEnv('POPULATION_SAMPLE', 32);
/** Activity profile that keeps one scratch process busy (`none` for no activity). */
export const BUSY_PROFILE = stringEnv('BUSY_PROFILE', 'mmap_churn');
/** Strategy override for every read (`''` = the service's configured strategy). */
export const STRATEGY = stringEnv('STRATEGY', '');
/** Strategies that strategy-ab.js compares, comma-separated (names are API). */
export const STRATEGIES = stringEnv(
  'STRATEGIES',
  'mmap_lock,per_vma,snapshot,lockless,lockless_nofallback',
)
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
/** Addresses per batch PROCMAP_QUERY request. */
export const BATCH_SIZE = numberEnv('BATCH_SIZE', 256);
