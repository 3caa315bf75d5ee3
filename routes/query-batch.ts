/**
 * Batch PROCMAP_QUERY (API.md "procfs reads"): `POST /proc/:pid/procmap_query` with
 * `{"queries":[…]}` (one result per query, in order) or `{"addrs":[…],"flags":…}` (the compact
 * form, answered column-wise). A hot route: its request logs are off below `warn`.
 *
 * Its own context, for its own JSON body parser: a per-query batch in the plain subset of JSON
 * that src/schemas/query-entries-scan.ts reads is parsed from the bytes straight into the
 * engine's columns; every other body goes to the app's parser (json-body.ts) and on through the
 * batch-count check and the validator, as before. Either way the same answer, byte for byte.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { batchBodyLimit, batchCountCheck } from '../src/schemas/body-limits.js';
import { errorResponses, PidParams, StrategyName } from '../src/schemas/common.js';
import { httpError } from '../src/schemas/errors.js';
import { jsonBodyParser } from '../src/schemas/json-body.js';
import { QueryAnswerBody } from '../src/schemas/query.js';
import {
  BatchQueryBody,
  queryColumnsBytes,
  toCompactQueries,
} from '../src/schemas/query-columns.js';
import { batchQueryValidator, QueryEntryBatch } from '../src/schemas/query-entries.js';
import { scanQueryEntries } from '../src/schemas/query-entries-scan.js';
import { queryResultsBytes } from '../src/schemas/query-results.js';
import { ReplyBuffers } from '../src/schemas/reply-buffers.js';

const BatchResult = Type.Union([
  QueryAnswerBody,
  Type.Object({
    error: Type.String(),
    errno: Type.Integer(),
    message: Type.Optional(Type.String()),
  }),
]);

/** The compact form's answer (documentation only: the handler serialises it itself). */
const QueryColumns = Type.Object({
  vma_start: Type.Array(Type.Union([Type.String(), Type.Null()])),
  vma_end: Type.Array(Type.Union([Type.String(), Type.Null()])),
  vma_flags: Type.Array(Type.Union([Type.Integer(), Type.Null()])),
  vma_offset: Type.Array(Type.Union([Type.String(), Type.Null()])),
  inode: Type.Array(Type.Union([Type.Integer(), Type.Null()])),
  dev_major: Type.Array(Type.Union([Type.Integer(), Type.Null()])),
  dev_minor: Type.Array(Type.Union([Type.Integer(), Type.Null()])),
  vma_name: Type.Array(Type.Union([Type.String(), Type.Null()])),
  errno: Type.Array(Type.Integer()),
});

function tooBig(n: number, maxBatch: number) {
  return httpError('E2BIG', `batch of ${n} queries exceeds the limit ${maxBatch}`);
}

const queryBatchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const maxBatch = app.serviceConfig.maxBatch;
  const parseJson = jsonBodyParser(app);
  const replies = new ReplyBuffers();
  /** Sends a reply written into `replies`' memory, given back once the response finished. */
  const sendPooled = (reply: FastifyReply, body: Buffer) => {
    reply.raw.once('finish', () => replies.release(body));
    return reply.send(body as never);
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    const batch = scanQueryEntries(bytes, maxBatch);
    if (batch !== null) done(null, batch);
    else parseJson(request, bytes, done);
  });

  app.post(
    '/proc/:pid/procmap_query',
    {
      logLevel: 'warn',
      bodyLimit: batchBodyLimit(app.serviceConfig),
      preValidation: batchCountCheck(maxBatch, 'queries', 'addrs'),
      validatorCompiler: batchQueryValidator,
      schema: {
        tags: ['procfs'],
        summary:
          'Batch PROCMAP_QUERY: {"queries":[…]} answers one result per query, in order; ' +
          '{"addrs":[…],"flags":…} answers column-wise (API.md "compact form")',
        params: PidParams,
        querystring: Type.Object({ strategy: Type.Optional(StrategyName) }),
        body: BatchQueryBody,
        response: {
          200: Type.Union([Type.Object({ results: Type.Array(BatchResult) }), QueryColumns]),
          ...errorResponses(400, 404, 413),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const opts = { strategy: request.query.strategy };
      reply.type('application/json; charset=utf-8');
      // The per-query form arrives parsed (by the body parser or the body validator:
      // query-entries-scan.ts, query-entries.ts): entries that do not parse have their own
      // EINVAL; the others go to the engine in one call.
      if (body instanceof QueryEntryBatch) {
        if (body.count > maxBatch) throw tooBig(body.count, maxBatch);
        const cols = await app.sim.queryColumns(request.params.pid, opts, body.batch);
        return sendPooled(reply, queryResultsBytes(body, cols, replies.take));
      }
      if ('queries' in body) throw new Error('per-query batch not parsed by its validator');
      if (body.addrs.length > maxBatch) throw tooBig(body.addrs.length, maxBatch);
      const compact = toCompactQueries(body);
      const cols = await app.sim.queryColumns(request.params.pid, opts, compact.batch);
      return sendPooled(reply, queryColumnsBytes(compact, cols, replies.take));
    },
  );
};

export default queryBatchRoutes;
