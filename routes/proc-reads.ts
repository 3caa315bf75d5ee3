/**
 * procfs reads (API.md "procfs reads"): `/proc/:pid/maps` streamed chunk by chunk (each chunk is
 * produced in its own lock window by the sim), and the point PROCMAP_QUERY (GET; the batch, POST,
 * is routes/query-batch.ts).
 * These are the hot routes under load, so their request logs are off below `warn`.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { piecesBuffer, ReadPieces } from '../src/cpus/read-pieces.js';
import { type QueryOutcome, SimError } from '../src/cpus/sim-api.js';
import { handedOverMaps, handedOverQuery } from '../src/plugins/app/read-fast-path.js';
import { errorResponses, PidParams, StrategyName } from '../src/schemas/common.js';
import { httpError } from '../src/schemas/errors.js';
import { ChunkParam, DEFAULT_CHUNK, SmapsQuery } from '../src/schemas/proc-files.js';
import { PointQuery, QueryAnswerBody, queryAnswerJson, toQueryArgs } from '../src/schemas/query.js';

const tags = ['procfs'];
const hot = { logLevel: 'warn' as const };

const MapsQuery = Type.Object({
  strategy: Type.Optional(StrategyName),
  chunk: Type.Optional(ChunkParam),
});

/** Maps texts up to this size go out as one Buffer; longer ones are streamed. */
const MAPS_BUFFERED_BYTES = 256 * 1024;

/**
 * The maps reply: the chunks (each made in its own lock window) concatenated into one Buffer
 * sent with a Content-Length, or, once they pass MAPS_BUFFERED_BYTES, a stream of what was
 * gathered and the rest. A stream costs several µs per request (chunked encoding, stream
 * machinery), which a typical file of ~100 lines (8 KiB) does not need.
 */
function mapsBody(
  chunks: AsyncIterable<Uint8Array>,
  reply: FastifyReply,
): Buffer | Promise<Buffer | Readable> {
  if (!(chunks instanceof ReadPieces)) return gatheredBody(chunks);
  // Its slab memory is reused once the reply is written, as on the fast path (a read never given
  // back leaves its slab to the GC: a fresh 256 KiB slab every ~30 reads, ~1–2 µs a read).
  reply.raw.once('finish', () => chunks.release());
  return piecesBuffer(chunks.pieces);
}

async function gatheredBody(chunks: AsyncIterable<Uint8Array>): Promise<Buffer | Readable> {
  const it = chunks[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return piecesBuffer(parts);
    parts.push(r.value);
    size += r.value.length;
    if (size > MAPS_BUFFERED_BYTES) break;
  }
  const rest = {
    async *[Symbol.asyncIterator]() {
      yield* parts;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    },
  };
  return Readable.from(rest, { objectMode: false });
}

const procReadRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/proc/:pid/maps',
    {
      ...hot,
      schema: {
        tags,
        summary: '/proc/PID/maps, byte-identical to Linux 6.18',
        params: PidParams,
        querystring: MapsQuery,
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'maps text (text/plain)' }),
          ...errorResponses(400, 404),
        },
      },
    },
    async (request, reply) => {
      const { strategy, chunk = DEFAULT_CHUNK } = request.query;
      // The fast path's read when it asked the engine already (read-fast-path.ts).
      const chunks = await (handedOverMaps(request.raw) ??
        app.sim.readMaps(request.params.pid, { strategy, chunk }));
      reply.type('text/plain; charset=utf-8');
      const body = mapsBody(chunks, reply);
      return reply.send((body instanceof Buffer ? body : await body) as never);
    },
  );

  for (const file of ['smaps', 'smaps_rollup'] as const) {
    app.get(
      `/proc/:pid/${file}`,
      {
        schema: {
          tags,
          summary: `/proc/PID/${file}, byte-identical to Linux 6.18 (read under the mmap read lock)`,
          params: PidParams,
          querystring: SmapsQuery,
          produces: ['text/plain'],
          response: {
            200: Type.String({ description: `${file} text (text/plain)` }),
            ...errorResponses(400, 404),
          },
        },
      },
      async (request, reply) => {
        const { strategy, chunk = 4096 } = request.query;
        if (strategy !== undefined && strategy !== 'mmap_lock') {
          throw httpError(
            'EINVAL',
            `${file} is read under the mmap read lock in Linux 6.18 (it walks page tables): ` +
              'only strategy=mmap_lock applies',
          );
        }
        const chunks = await app.sim.readProcFile(request.params.pid, file, { chunk });
        reply.type('text/plain; charset=utf-8');
        const body = mapsBody(chunks, reply);
        return reply.send((body instanceof Buffer ? body : await body) as never);
      },
    );
  }

  app.get(
    '/proc/:pid/status',
    {
      schema: {
        tags,
        summary:
          '/proc/PID/status in the kernel format: Vm*/Rss* lines from the address space, ' +
          'identity lines simulated (README "procfs reads")',
        params: PidParams,
        produces: ['text/plain'],
        response: {
          200: Type.String({ description: 'status text (text/plain)' }),
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const chunks = await app.sim.readProcFile(request.params.pid, 'status', { chunk: 0 });
      reply.type('text/plain; charset=utf-8');
      const body = mapsBody(chunks, reply);
      return reply.send((body instanceof Buffer ? body : await body) as never);
    },
  );

  app.get(
    '/proc/:pid/procmap_query',
    {
      ...hot,
      schema: {
        tags,
        summary: 'PROCMAP_QUERY: the VMA covering (or after) an address',
        params: PidParams,
        querystring: PointQuery,
        response: { 200: QueryAnswerBody, ...errorResponses(400, 404) },
      },
    },
    // Not an async function: the answer is sent from the engine's promise, and a failure goes to
    // the error handler the same way (reply.send of an Error), without the handler's own promise
    // and fastify's wait on it (one promise and two microtask turns less per request).
    (request, reply) => {
      const query = request.query;
      const args = [toQueryArgs(query)];
      const failed = (err: unknown) => {
        reply.send((err instanceof Error ? err : new Error(String(err))) as never);
      };
      // The fast path's answer when it asked the engine already (read-fast-path.ts).
      const pending =
        handedOverQuery(request.raw) ??
        app.sim.query(request.params.pid, { strategy: query.strategy }, args);
      const answer = (outcomes: QueryOutcome[]) => {
        try {
          const outcome = outcomes[0];
          if (outcome instanceof SimError) return failed(outcome);
          // Serialised by hand (the 200 schema documents it; a string skips the schema serializer).
          reply.type('application/json; charset=utf-8').send(queryAnswerJson(outcome) as never);
        } catch (err) {
          failed(err);
        }
      };
      if (pending instanceof Promise) pending.then(answer, failed);
      else answer(pending);
    },
  );
};

export default procReadRoutes;
