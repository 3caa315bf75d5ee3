/**
 * OpenAPI document (`GET /docs/json`) generated from the routes' TypeBox schemas, and the UI at
 * `GET /docs`.
 */
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

async function swagger(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'procfs-sim',
        description:
          'Simulated Linux 6.18 address spaces: /proc/PID/maps, PROCMAP_QUERY and the mm ' +
          'syscalls over HTTP, under a selectable locking strategy.',
        version: '0.1.0',
      },
      tags: [
        { name: 'processes', description: 'create, inspect, fork, exit, activities' },
        { name: 'procfs', description: '/proc/PID/maps and PROCMAP_QUERY' },
        { name: 'mutations', description: 'mmap, munmap, mprotect, mremap, brk, anon names' },
        { name: 'service', description: 'configuration, metrics, health, WebSocket' },
      ],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', logLevel: 'warn' });
}

export default fp(swagger, { name: 'swagger' });
