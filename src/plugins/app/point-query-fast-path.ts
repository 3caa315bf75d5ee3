/**
 * The point query's plain form, `GET /proc/<pid>/procmap_query?addr=0x<hex>`, answered before
 * fastify's request handler when it succeeds. The service's hottest request costs the same engine
 * call either way; fastify's routing, request and reply objects, hook and validation runners and
 * promise layers cost ~9 µs of event loop per request more than this path (A/B in BENCHMARKS.md).
 *
 * Nothing is decided here that fastify would decide otherwise:
 * - only that exact form (no other querystring key, an address of 1–16 hex digits, a pid of
 *   1..2^31-1, GET, no body), which the route's schema accepts as it stands;
 * - only when every check of the request gate lets the request through untouched (Host/Origin,
 *   token, shutdown, overload, upgrades: `RequestGate.passesAll`);
 * - only a VMA found is answered here (200, the route's own bytes and headers: content-type and
 *   content-length, and node's); any other outcome (no VMA, no such process, a failure) is handed
 *   to fastify with the engine's answer attached, and the route sends that answer
 *   (`handedOverQuery`) instead of asking the engine again: every error reply, log line and
 *   metric is fastify's, and the engine counts the read once.
 * Each request answered here is observed in http_request_duration_seconds under its route.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';
import { type QueryArgs, type QueryOutcome, SimError } from '../../cpus/sim-api.js';
import { queryAnswerJson, toQueryArgs } from '../../schemas/query.js';
import type { ObserveRequest } from './metrics.js';

const PLAIN_POINT_QUERY = /^\/proc\/([1-9][0-9]{0,9})\/procmap_query\?addr=(0x[0-9a-fA-F]{1,16})$/;
const MAX_PID = 2 ** 31 - 1;
const JSON_TYPE = 'application/json; charset=utf-8';

const handedOver = new WeakMap<IncomingMessage, Promise<QueryOutcome[]>>();

/** The engine's answer the fast path already has for this request (taken once), or undefined. */
export function handedOverQuery(raw: IncomingMessage): Promise<QueryOutcome[]> | undefined {
  const pending = handedOver.get(raw);
  if (pending !== undefined) handedOver.delete(raw);
  return pending;
}

/** The options fastify sets on the HTTP/1 server it makes (its defaults filled in). */
interface ServerTimeouts {
  http?: http.ServerOptions;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket: number;
}

type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export class PointQueryFastPath {
  private app: FastifyInstance | null = null;
  /** Requests answered here (not handed to fastify). */
  answered = 0;
  private observe: ObserveRequest = () => {};

  /** Starts answering (the app is ready: its sim, gate and metrics exist). */
  attach(app: FastifyInstance): void {
    this.observe = app.requestDurations.observer('GET', '/proc/:pid/procmap_query');
    this.app = app;
  }

  /**
   * fastify's `serverFactory`: the HTTP/1 server fastify makes itself (same timeouts), with this
   * path in front of fastify's handler.
   */
  readonly serverFactory: FastifyServerFactory = (handler, rawOpts) => {
    const fastify = handler as NodeHandler;
    const opts = rawOpts as unknown as ServerTimeouts;
    const server = http.createServer(opts.http ?? {}, (req, res) => {
      if (!this.tryAnswer(req, res, fastify)) fastify(req, res);
    });
    server.keepAliveTimeout = opts.keepAliveTimeout;
    server.requestTimeout = opts.requestTimeout;
    server.setTimeout(opts.connectionTimeout);
    if (opts.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket;
    return server;
  };

  /** Takes the request (true) or leaves it to fastify untouched (false). */
  private tryAnswer(req: IncomingMessage, res: ServerResponse, fastify: NodeHandler): boolean {
    const app = this.app;
    if (app === null || req.method !== 'GET') return false;
    const m = PLAIN_POINT_QUERY.exec(req.url ?? '');
    if (m === null) return false;
    const pid = Number(m[1]);
    const headers = req.headers;
    if (pid > MAX_PID || headers['content-length'] !== undefined) return false;
    if (headers['transfer-encoding'] !== undefined || !app.requestGate.passesAll(req)) return false;
    let args: QueryArgs;
    try {
      args = toQueryArgs({ addr: m[2] });
    } catch {
      return false; // fastify answers it (nothing has run yet)
    }
    const started = performance.now();
    const pending = app.sim.query(pid, { strategy: undefined }, [args]);
    const handOver = () => {
      handedOver.set(req, pending);
      fastify(req, res);
    };
    pending.then((outcomes) => {
      const outcome = outcomes[0];
      if (outcome instanceof SimError) return handOver();
      let body: string;
      try {
        body = queryAnswerJson(outcome);
      } catch {
        return handOver(); // the route meets the same failure: fastify's error path answers
      }
      res.writeHead(200, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      this.answered++;
      this.observe(200, (performance.now() - started) / 1000);
    }, handOver);
    return true;
  }
}
