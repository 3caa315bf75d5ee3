/**
 * The two hottest reads in their plain forms, `GET /proc/<pid>/procmap_query?addr=0x<hex>` and
 * `GET /proc/<pid>/maps`, answered before fastify's request handler when they succeed. The engine
 * call is the same either way; fastify's routing, request and reply objects, hook and validation
 * runners and promise layers cost several µs of event loop per request more than this path (A/B
 * in BENCHMARKS.md).
 *
 * Nothing is decided here that fastify would decide otherwise:
 * - only those exact forms (no querystring for maps, `addr` of 1–16 hex digits alone for the
 *   query, a pid of 1..2^31-1, GET, no body), which the routes' schemas accept as they stand, and
 *   the routes' defaults (the service's strategy, 4 KiB chunks);
 * - only when every check of the request gate lets the request through untouched (Host/Origin,
 *   token, shutdown, overload, upgrades: `RequestGate.passesAll`);
 * - only a success is answered here (200 with the route's own bytes and headers: content-type
 *   and content-length, and node's): a VMA found, a maps text read within one event-loop turn.
 *   Any other outcome (no VMA, no such process, a longer text to stream, a failure) is handed to
 *   fastify with the engine's promise attached, and the route takes that (`handedOverQuery`,
 *   `handedOverMaps`) instead of asking the engine again: every error reply, log line and metric
 *   is fastify's, and the engine counts the read once.
 * Each request answered here is observed in http_request_duration_seconds under its route.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { FastifyInstance, FastifyServerFactory } from 'fastify';
import { type MapsRead, piecesBuffer, ReadPieces } from '../../cpus/read-pieces.js';
import { type QueryArgs, type QueryOutcome, SimError } from '../../cpus/sim-api.js';
import { DEFAULT_CHUNK } from '../../schemas/proc-files.js';
import { queryAnswerJson, toQueryArgs } from '../../schemas/query.js';
import type { ObserveRequest } from './metrics.js';

const PLAIN_POINT_QUERY = /^\/proc\/([1-9][0-9]{0,9})\/procmap_query\?addr=(0x[0-9a-fA-F]{1,16})$/;
const PLAIN_MAPS = /^\/proc\/([1-9][0-9]{0,9})\/maps$/;
const MAX_PID = 2 ** 31 - 1;
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const queries = new WeakMap<IncomingMessage, QueryOutcome[] | Promise<QueryOutcome[]>>();
const mapsReads = new WeakMap<IncomingMessage, MapsRead>();

/** Takes (once) what the fast path left in `map` for this request. */
function take<T>(map: WeakMap<IncomingMessage, T>, raw: IncomingMessage): T | undefined {
  const v = map.get(raw);
  if (v !== undefined) map.delete(raw);
  return v;
}

/** Gives fastify the request with the engine's answer to its point query (the route takes it). */
function handOverQuery(
  outcomes: QueryOutcome[] | Promise<QueryOutcome[]>,
  req: IncomingMessage,
  res: ServerResponse,
  fastify: NodeHandler,
): void {
  queries.set(req, outcomes);
  fastify(req, res);
}

/** The engine's answer the fast path already has for this point query, or undefined. */
export function handedOverQuery(
  raw: IncomingMessage,
): QueryOutcome[] | Promise<QueryOutcome[]> | undefined {
  return take(queries, raw);
}

/** The maps read the fast path already started for this request, or undefined. */
export function handedOverMaps(raw: IncomingMessage): MapsRead | undefined {
  return take(mapsReads, raw);
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

export class ReadFastPath {
  private app: FastifyInstance | null = null;
  /** Requests answered here (not handed to fastify). */
  answered = 0;
  private observeQuery: ObserveRequest = () => {};
  private observeMaps: ObserveRequest = () => {};

  /** Starts answering (the app is ready: its sim, gate and metrics exist). */
  attach(app: FastifyInstance): void {
    this.observeQuery = app.requestDurations.observer('GET', '/proc/:pid/procmap_query');
    this.observeMaps = app.requestDurations.observer('GET', '/proc/:pid/maps');
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
    const url = req.url ?? '';
    const query = PLAIN_POINT_QUERY.exec(url);
    const maps = query === null ? PLAIN_MAPS.exec(url) : null;
    const m = query ?? maps;
    if (m === null) return false;
    const pid = Number(m[1]);
    const headers = req.headers;
    if (pid > MAX_PID || headers['content-length'] !== undefined) return false;
    if (headers['transfer-encoding'] !== undefined || !app.requestGate.passesAll(req)) return false;
    if (query !== null) return this.pointQuery(app, pid, query[2], req, res, fastify);
    this.mapsRead(app, pid, req, res, fastify);
    return true;
  }

  private pointQuery(
    app: FastifyInstance,
    pid: number,
    addr: string,
    req: IncomingMessage,
    res: ServerResponse,
    fastify: NodeHandler,
  ): boolean {
    let args: QueryArgs;
    try {
      args = toQueryArgs({ addr });
    } catch {
      return false; // fastify answers it (nothing has run yet)
    }
    const started = performance.now();
    const pending = app.sim.query(pid, { strategy: undefined }, [args]);
    // The common case: answered at once (no promise layer, no closure).
    if (!(pending instanceof Promise)) this.answerQuery(pending, started, req, res, fastify);
    else {
      pending.then(
        (outcomes) => this.answerQuery(outcomes, started, req, res, fastify),
        () => handOverQuery(pending, req, res, fastify),
      );
    }
    return true;
  }

  private answerQuery(
    outcomes: QueryOutcome[],
    started: number,
    req: IncomingMessage,
    res: ServerResponse,
    fastify: NodeHandler,
  ): void {
    const outcome = outcomes[0];
    if (outcome instanceof SimError) {
      handOverQuery(outcomes, req, res, fastify);
      return;
    }
    let body: string;
    try {
      body = queryAnswerJson(outcome);
    } catch {
      // The route meets the same failure: fastify's error path answers.
      handOverQuery(outcomes, req, res, fastify);
      return;
    }
    this.send(res, JSON_TYPE, body, Buffer.byteLength(body));
    this.observeQuery(200, (performance.now() - started) / 1000);
  }

  private mapsRead(
    app: FastifyInstance,
    pid: number,
    req: IncomingMessage,
    res: ServerResponse,
    fastify: NodeHandler,
  ): void {
    const started = performance.now();
    const read = app.sim.readMaps(pid, { strategy: undefined, chunk: DEFAULT_CHUNK });
    // The common case: read whole within this turn, answered at once (no promise layer).
    if (read instanceof ReadPieces) {
      this.sendMaps(res, read, started);
      return;
    }
    const handOver = () => {
      mapsReads.set(req, read);
      fastify(req, res);
    };
    read.then((chunks) => {
      if (!(chunks instanceof ReadPieces)) return handOver(); // streamed by the route
      this.sendMaps(res, chunks, started);
    }, handOver);
  }

  /** A whole maps text; its slab memory is given back once the reply is written. */
  private sendMaps(res: ServerResponse, read: ReadPieces, started: number): void {
    const body = piecesBuffer(read.pieces);
    this.send(res, TEXT_TYPE, body, body.length, () => read.release());
    this.observeMaps(200, (performance.now() - started) / 1000);
  }

  /** A 200 answer with the route's headers; `written` runs once it is written to the socket. */
  private send(
    res: ServerResponse,
    type: string,
    body: string | Buffer,
    length: number,
    written?: () => void,
  ): void {
    res.writeHead(200, { 'content-type': type, 'content-length': length });
    res.end(body, written);
    this.answered++;
  }
}
