/**
 * Hostile HTTP requests, one fast-check arbitrary per route of the app (`METHOD /pattern`, as
 * route-table.ts reads them). A request names its pid symbolically (`victim`, `sacrifice`,
 * `missing` or a raw path segment) and is rendered against the live fixture when it is sent
 * (hostile-client.ts), so counterexamples print readably and replay exactly.
 */
import fc from 'fast-check';
import { SYSCALL_OPS } from '../../src/schemas/syscalls.js';
import { deepJson, hostileBodyText, hostileQueryValue, hostileU64 } from './hostile-values.js';
import {
  activityBody,
  calls,
  createBody,
  fields,
  opFields,
  queryBody,
  type RequestShapes,
} from './http-bodies.js';

export type { RequestShapes } from './http-bodies.js';

export type PidToken = 'victim' | 'sacrifice' | 'missing' | { raw: string };

export interface HostileRequest {
  /** The route it was made for (`POST /proc/:pid/mprotect`), or `404` for an unknown path. */
  route: string;
  method: string;
  /** The path with `:pid` still in it (rendered at send time). */
  path: string;
  pid?: PidToken;
  query: string;
  headers: Record<string, string>;
  body?: string;
}

const RAW_PIDS = ['0', '-1', '1.9', '3e0', '0x1', '+1', '2147483648', '9'.repeat(300)];
const rawPid = fc.constantFrom(...RAW_PIDS, '%20', '1%00', 'abc').map((raw) => ({ raw }));

/** Pids for a route: the victim only where a success is harmless and undone (hostile-client.ts). */
function pidToken(victimAllowed: boolean): fc.Arbitrary<PidToken> {
  const named: PidToken[] = victimAllowed
    ? ['victim', 'victim', 'victim', 'sacrifice', 'missing']
    : ['sacrifice', 'missing'];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...named), weight: 3 },
    { arbitrary: rawPid, weight: 1 },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset=utf-16',
  'multipart/form-data; boundary=x',
];

/** Extra headers: a foreign Origin (refused on writes), odd Accept values. */
const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    origin: fc.constantFrom('http://evil.example', 'null', 'http://127.0.0.1:1', ''),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml', ''),
  },
  { requiredKeys: [] },
);

/** A body: mostly a JSON object from `obj`, sometimes raw hostile text or the wrong type. */
function body(obj: fc.Arbitrary<unknown>) {
  return fc.record({
    text: fc.oneof(
      { arbitrary: obj.map((o) => JSON.stringify(o) ?? 'null'), weight: 6 },
      { arbitrary: hostileBodyText, weight: 1 },
    ),
    contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 8 }),
  });
}

/** A query string from known keys (and junk ones) with hostile values; keys may repeat. */
function query(keys: readonly string[]): fc.Arbitrary<string> {
  const key = fc.constantFrom(...keys, '__proto__', 'constructor', 'x', '');
  const value = fc.oneof(
    hostileQueryValue,
    hostileU64.map((v) => encodeURIComponent(String(v))),
  );
  return fc
    .array(fc.tuple(key, value), { maxLength: 4 })
    .map((kv) => (kv.length === 0 ? '' : `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`));
}

export interface Spec {
  /** A route with little to fuzz (no pid, no body): a quarter of the requests. */
  light?: boolean;
  pid?: fc.Arbitrary<PidToken>;
  /** Path segments other than the pid: `:file` of /ui, the tail of /docs/*. */
  segment?: fc.Arbitrary<string>;
  query?: readonly string[];
  body?: fc.Arbitrary<unknown>;
}

const fileSegment = fc.constantFrom(
  'main.js',
  'page.css',
  '..%2f..%2fpackage.json',
  '%2e%2e',
  'x'.repeat(200),
  '%00',
  'index.html',
);

/** The spec of each route (by `METHOD /pattern`). HEAD routes reuse their GET's spec. */
export function routeSpecs(shapes: RequestShapes): Map<string, Spec> {
  const specs = new Map<string, Spec>();
  const add = (methods: string[], url: string, spec: Spec) => {
    for (const m of methods) specs.set(`${m} ${url}`, spec);
  };
  const readable = { pid: pidToken(true), query: ['strategy', 'chunk'] };
  for (const url of [
    '/',
    '/healthz',
    '/config',
    '/metrics',
    '/docs',
    '/docs/',
    '/docs/json',
    '/docs/yaml',
    '/docs/static/index.html',
    '/docs/static/swagger-initializer.js',
    '/ws',
  ]) {
    add(['GET', 'HEAD'], url, { light: true, query: ['x', 'strategy'] });
  }
  add(['GET', 'HEAD'], '/docs/*', { light: true, segment: fileSegment, query: ['x'] });
  add(['GET', 'HEAD'], '/ui/:file', { light: true, segment: fileSegment, query: ['x'] });
  add(['PUT'], '/config/strategy', {
    body: fields(['strategy'], shapes).map((o) => ({ strategy: 'per_vma', ...o })),
  });
  add(['GET', 'HEAD'], '/processes', { query: ['offset', 'limit'] });
  add(['POST'], '/processes', { body: createBody(shapes) });
  add(['GET', 'HEAD'], '/processes/:pid', { pid: pidToken(true), query: ['x'] });
  add(['DELETE'], '/processes/:pid', { pid: pidToken(false) });
  add(['POST'], '/processes/:pid/fork', { pid: pidToken(true), body: fields(['x'], shapes) });
  add(['PUT'], '/processes/:pid/activity', { pid: pidToken(true), body: activityBody(shapes) });
  add(['GET', 'HEAD', 'DELETE'], '/processes/:pid/activity', { pid: pidToken(true) });
  for (const file of ['maps', 'smaps', 'smaps_rollup', 'status']) {
    add(['GET', 'HEAD'], `/proc/:pid/${file}`, readable);
  }
  add(['GET', 'HEAD'], '/proc/:pid/procmap_query', {
    pid: pidToken(true),
    query: ['addr', 'flags', 'name', 'build_id', 'strategy'],
  });
  add(['POST'], '/proc/:pid/procmap_query', {
    pid: pidToken(true),
    query: ['strategy'],
    body: queryBody(shapes),
  });
  for (const op of new Set([...SYSCALL_OPS, 'touch'])) {
    add(['POST'], `/proc/:pid/${op}`, { pid: pidToken(true), body: fields(opFields(op), shapes) });
  }
  add(['POST'], '/proc/:pid/syscalls', {
    pid: pidToken(true),
    body: fc.record({ calls: calls(shapes) }, { requiredKeys: [] }),
  });
  add(['POST'], '/snapshot', { body: fields(['x'], shapes) });
  return specs;
}

/** How many requests a route gets when a full route gets `runs` (HEAD and light ones fewer). */
export function routeRuns(route: string, spec: Spec, runs: number): number {
  return spec.light || route.startsWith('HEAD ') ? Math.ceil(runs / 4) : runs;
}

/** The requests of one route. */
export function routeRequests(route: string, spec: Spec): fc.Arbitrary<HostileRequest> {
  const [method, pattern] = route.split(' ');
  return fc
    .record({
      pid: spec.pid ?? fc.constant(undefined),
      segment: spec.segment ?? fc.constant(''),
      query: spec.query ? query(spec.query) : fc.constant(''),
      body: spec.body ? fc.option(body(spec.body), { freq: 10 }) : fc.constant(null),
      headers: extraHeaders,
    })
    .map(({ pid, segment, query: q, body: b, headers }) => {
      const path = pattern.replace(/:file$|\*$/, segment);
      const h: Record<string, string> = { ...headers };
      if (b?.contentType) h['content-type'] = b.contentType;
      return { route, method, path, pid, query: q, headers: h, body: b?.text };
    });
}

/** Requests for paths no route matches (the not-found handler's answers). */
export const unknownRouteRequests: fc.Arbitrary<HostileRequest> = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    fc.constantFrom(
      '/nope',
      '/proc',
      '/proc/1',
      '/proc/1/maps/x',
      '/processes/1/fork/x',
      '//',
      '/%2e%2e/etc/passwd',
      `/${'a'.repeat(3000)}`,
      '/proc/:pid/maps',
    ),
  )
  .map(([method, path]) => ({
    route: '404',
    method,
    path,
    query: '',
    headers: {},
    body: deepJson(3, 'array'),
  }));
