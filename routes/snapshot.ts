/**
 * `POST /snapshot`: write a checkpoint of every process to `--state-dir` now (behind `--token`
 * like every route but /healthz). 400 EINVAL without a state directory.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../src/schemas/common.js';
import { httpError } from '../src/schemas/errors.js';

const SnapshotReply = Type.Object({
  path: Type.String(),
  format_version: Type.Integer(),
  processes: Type.Integer(),
  vmas: Type.Integer(),
  bytes: Type.Integer(),
  duration_ms: Type.Number(),
});

const snapshotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/snapshot',
    {
      schema: {
        tags: ['service'],
        summary: 'Write a snapshot of every process to --state-dir (crash-safe)',
        response: { 200: SnapshotReply, ...errorResponses(400, 503) },
      },
    },
    async () => {
      const store = app.stateStore;
      if (store === null)
        throw httpError('EINVAL', 'no --state-dir configured: nothing to write to');
      const r = await store.save(app.sim);
      return {
        path: r.path,
        format_version: r.formatVersion,
        processes: r.processes,
        vmas: r.vmas,
        bytes: r.bytes,
        duration_ms: r.durationMs,
      };
    },
  );
};

export default snapshotRoutes;
