/**
 * WebSocket support for `GET /ws`. `maxPayload` makes the ws library close a connection that sends
 * a message larger than the limit with close code 1009 (message too big), before parsing it.
 *
 * @fastify/websocket hooks every route of the context it is registered in: an onRequest and an
 * onResponse hook, and a wrapper around each handler, run by every request. Only the WebSocket
 * routes need them, so the plugin and those routes (`routes`) get a context of their own; the
 * app keeps `websocketServer` and `injectWS`. An upgrade request to any other route is answered
 * as a plain request, and its connection closed (src/plugins/app/refused-upgrades.ts).
 */
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

export interface WebsocketOptions {
  maxMessageBytes: number;
  /** The routes that accept WebSocket upgrades. */
  routes: FastifyPluginAsync;
}

async function websocket(app: FastifyInstance, opts: WebsocketOptions): Promise<void> {
  let scope: FastifyInstance | null = null;
  await app.register(async (ws) => {
    await ws.register(fastifyWebsocket, { options: { maxPayload: opts.maxMessageBytes } });
    await ws.register(opts.routes);
    scope = ws;
  });
  const ws = scope as FastifyInstance | null;
  if (ws === null) throw new Error('the WebSocket context did not load');
  app.decorate('websocketServer', ws.websocketServer);
  app.decorate('injectWS', ws.injectWS);
}

export default fp(websocket, { name: 'websocket' });
