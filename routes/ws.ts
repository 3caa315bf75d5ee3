/**
 * `GET /ws` (API.md): event and rates subscriptions, and request/response RPC over one WebSocket.
 * Every message is validated (src/schemas/ws-protocol.ts); a bad one gets an error message back.
 * A client that cannot keep up with its subscriptions is closed with 1008 once more than
 * `wsMaxBuffered` bytes wait for it, rather than buffering without bound. Messages above
 * `wsMaxMessage` bytes are refused by the ws library itself (close 1009).
 */
import type { Socket } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { WebSocket } from 'ws';
import type { ServiceConfig } from '../src/config.js';
import { ReadPieces } from '../src/cpus/read-pieces.js';
import { type MapsReadOptions, type SimApi, SimError } from '../src/cpus/sim-api.js';
import { totalRates } from '../src/metrics/rates.js';
import { chunkStatsObject } from '../src/procfs/chunk-stats.js';
import { runBatch, syscallBatch } from '../src/schemas/batch.js';
import { errorResponses } from '../src/schemas/common.js';
import { HTTP_ERRNO, toErrorReply } from '../src/schemas/errors.js';
import { formatProcessDetail } from '../src/schemas/processes.js';
import { formatQueryAnswer, toQueryArgs } from '../src/schemas/query.js';
import { formatConfig } from '../src/schemas/service-config.js';
import { formatResult } from '../src/schemas/syscall-format.js';
import { parseCallEntry } from '../src/schemas/syscalls.js';
import {
  parseWsMessage,
  WS_CLOSE_SLOW_CONSUMER,
  type WsMessage,
  WsMessageError,
} from '../src/schemas/ws-protocol.js';

const RATES_INTERVAL_MS = 1000;

async function collectMaps(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  const text = Buffer.concat(parts).toString('utf8');
  // A whole read's memory (slab piece, or the memo's text it was lent) is free once copied.
  if (chunks instanceof ReadPieces) chunks.release();
  return text;
}

/** A traced read: the text, and per chunk its size and what its lock window took. */
async function collectTracedMaps(sim: SimApi, pid: number, opts: MapsReadOptions) {
  const rows: number[] = [];
  const parts: Uint8Array[] = [];
  const chunks: Record<string, number>[] = [];
  for await (const c of await sim.readMaps(pid, { ...opts, chunkStats: rows })) {
    let lines = 0;
    for (const b of c) if (b === 0x0a) lines++;
    chunks.push({ bytes: c.length, lines, ...chunkStatsObject(rows, parts.length) });
    parts.push(c);
  }
  return { text: Buffer.concat(parts).toString('utf8'), chunks };
}

/** Runs one request; resolves to the `result` value or rejects with the error. */
async function runRequest(
  sim: SimApi,
  m: WsMessage,
  maxBatch: number,
  svc: ServiceConfig,
): Promise<unknown> {
  switch (m.kind) {
    case 'maps': {
      const { pid, strategy, chunk = 4096 } = m.msg;
      if (m.msg.chunks) return collectTracedMaps(sim, pid, { strategy, chunk });
      return collectMaps(await sim.readMaps(pid, { strategy, chunk }));
    }
    case 'procmap_query': {
      const { pid, strategy, id: _id, op: _op, ...q } = m.msg;
      const [o] = await sim.query(pid, { strategy }, [toQueryArgs(q)]);
      if (o instanceof SimError) throw o;
      return formatQueryAnswer(o);
    }
    case 'process':
      return formatProcessDetail(await sim.inspectProcess(m.msg.pid));
    case 'processes':
      return sim.listProcesses(m.msg.offset ?? 0, m.msg.limit ?? 100);
    case 'config':
      return formatConfig(sim.getConfig(), svc);
    case 'syscalls': {
      if (m.msg.calls.length > maxBatch) {
        throw new WsMessageError(`syscalls: more than ${maxBatch} calls`, m.msg.id);
      }
      return runBatch(m.msg.calls, syscallBatch(sim, m.msg.pid));
    }
    case 'mutation': {
      const { id: _id, pid, ...entry } = m.msg;
      const call = parseCallEntry(entry);
      const [r] = await sim.syscalls(pid, [call]);
      if (r instanceof SimError) throw r;
      return formatResult(call.op, r);
    }
    default:
      throw new WsMessageError('not a request', undefined);
  }
}

const wsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { wsMaxBuffered, maxBatch } = app.serviceConfig;

  app.route({
    method: 'GET',
    url: '/ws',
    schema: {
      tags: ['service'],
      summary: 'WebSocket: events, rates, RPC (a plain GET answers 426 EINVAL)',
      response: errorResponses(426),
    },
    // A GET without the upgrade: say what the route needs, in the errno shape.
    handler: async (_request, reply) =>
      reply.code(426).header('upgrade', 'websocket').send({
        error: 'EINVAL',
        errno: HTTP_ERRNO.EINVAL,
        message: 'GET /ws is a WebSocket: send it with Upgrade: websocket',
      }),
    wsHandler: (socket: WebSocket, request) => {
      let unsubscribeEvents: (() => void) | null = null;
      let ratesTimer: NodeJS.Timeout | null = null;
      let closed = false;

      const stopSubscriptions = () => {
        unsubscribeEvents?.();
        unsubscribeEvents = null;
        if (ratesTimer) clearInterval(ratesTimer);
        ratesTimer = null;
      };

      /** Sends a text message unless the client has fallen too far behind (then closes it). */
      const sendText = (text: string | Buffer) => {
        if (closed) return;
        if (socket.bufferedAmount > wsMaxBuffered) {
          closed = true;
          stopSubscriptions();
          request.log.warn({ buffered: socket.bufferedAmount }, 'ws slow consumer closed');
          socket.close(WS_CLOSE_SLOW_CONSUMER, 'slow consumer: too many unread messages');
          return;
        }
        socket.send(text, { binary: false });
      };
      const push = (payload: unknown) => sendText(JSON.stringify(payload));
      /** A burst of events, written to the TCP socket at once (corked: one writev, not one each). */
      const sendBurst = (frames: readonly Buffer[]) => {
        const tcp = (socket as unknown as { _socket?: Socket })._socket;
        tcp?.cork();
        for (const f of frames) sendText(f);
        tcp?.uncork();
      };
      /** Replies too: a client that pipelines requests without reading is just as slow. */
      const reply = push;

      const subscribe = (what: 'events' | 'rates', pid: number | undefined) => {
        if (what === 'events') {
          unsubscribeEvents?.();
          // Events arrive serialised once for all subscribers (src/plugins/app/event-fanout.ts).
          unsubscribeEvents = app.eventFanout.subscribe(pid, sendBurst);
          if (unsubscribeEvents === null) {
            const max = app.eventFanout.maxSubscribers;
            return reply({
              type: 'error',
              subscribe: what,
              error: 'EAGAIN',
              errno: HTTP_ERRNO.EAGAIN,
              message: `${max} event subscriptions are open, the limit (--ws-max-subscribers)`,
            });
          }
        } else if (!ratesTimer) {
          // Rates over all strategies (reads with a ?strategy= override count too), labelled
          // with the configured strategy.
          let prev = app.metrics.totals();
          ratesTimer = setInterval(() => {
            const next = app.metrics.totals();
            push({
              type: 'rates',
              strategy: app.sim.getConfig().strategy,
              ...totalRates(prev, next),
            });
            prev = next;
          }, RATES_INTERVAL_MS);
        }
        reply({ type: 'subscribed', subscribe: what, pid: pid ?? null });
      };

      socket.on('message', (data, isBinary) => {
        if (isBinary) {
          reply({
            type: 'error',
            error: 'EINVAL',
            errno: HTTP_ERRNO.EINVAL,
            message: 'send JSON text messages',
          });
          return;
        }
        let m: WsMessage;
        try {
          m = parseWsMessage(data.toString());
        } catch (e) {
          if (!(e instanceof WsMessageError)) throw e;
          const err = e;
          reply({
            ...(err.id !== undefined ? { id: err.id } : {}),
            type: 'error',
            error: 'EINVAL',
            errno: HTTP_ERRNO.EINVAL,
            message: err.message,
          });
          return;
        }
        if (m.kind === 'subscribe') return subscribe(m.msg.subscribe, m.msg.pid);
        if (m.kind === 'unsubscribe') {
          if (m.msg.unsubscribe === 'events') {
            unsubscribeEvents?.();
            unsubscribeEvents = null;
          } else if (ratesTimer) {
            clearInterval(ratesTimer);
            ratesTimer = null;
          }
          return reply({ type: 'unsubscribed', unsubscribe: m.msg.unsubscribe });
        }
        const id = m.msg.id;
        runRequest(app.sim, m, maxBatch, app.serviceConfig).then(
          (result) => reply({ id, result }),
          (e) => {
            const { status, body } = toErrorReply(e);
            // Overload (503 EBUSY) is the service working as designed: not an error-level line.
            if (status === 503) request.log.warn({ errno: body.error }, 'ws request shed');
            else if (status >= 500) request.log.error({ err: e }, 'ws request failed');
            reply({ id, error: body });
          },
        );
      });

      socket.on('close', () => {
        closed = true;
        stopSubscriptions();
      });
    },
  });
};

export default wsRoutes;
