/**
 * WebSocket support for `GET /ws`. `maxPayload` makes the ws library close a connection that sends
 * a message larger than the limit with close code 1009 (message too big), before parsing it.
 */
import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface WebsocketOptions {
  maxMessageBytes: number;
}

async function websocket(app: FastifyInstance, opts: WebsocketOptions): Promise<void> {
  await app.register(fastifyWebsocket, { options: { maxPayload: opts.maxMessageBytes } });
}

export default fp(websocket, { name: 'websocket' });
