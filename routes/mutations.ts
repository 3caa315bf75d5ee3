/**
 * Mutations (API.md "Mutations"): one endpoint per syscall plus the `/syscalls` batch. Results and
 * errno are the engine's (Linux-exact); this file only converts shapes.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { SimError, type SyscallOp } from '../src/cpus/sim-api.js';
import { runBatch, syscallBatch } from '../src/schemas/batch.js';
import { batchBodyLimit, batchCountCheck } from '../src/schemas/body-limits.js';
import { ErrorReply, errorResponses, PidParams } from '../src/schemas/common.js';
import { formatResult, RESULT_SCHEMAS } from '../src/schemas/syscall-format.js';
import {
  BODY_SCHEMAS,
  type BodyOf,
  CallEntry,
  SYSCALL_OPS,
  toSyscallCall,
} from '../src/schemas/syscalls.js';

const tags = ['mutations'];

const SUMMARIES: Record<SyscallOp, string> = {
  mmap: 'mmap(2)',
  munmap: 'munmap(2)',
  mprotect: 'mprotect(2)',
  mremap: 'mremap(2)',
  brk: 'brk(2); addr "0x0" returns the current break',
  anon_name: 'prctl(PR_SET_VMA_ANON_NAME)',
  madvise: 'madvise(2): hugepage / nohugepage (VmFlags hg / nh, THP), dontneed (zaps the pages)',
  touch:
    'access every page of a range (page faults: per-VMA lock, else mmap_lock); EFAULT with the reason for SIGSEGV/SIGBUS',
};

const mutationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const maxBatch = app.serviceConfig.maxBatch;

  for (const op of SYSCALL_OPS) {
    app.post(
      `/proc/:pid/${op}`,
      {
        schema: {
          tags,
          summary: SUMMARIES[op],
          params: PidParams,
          body: BODY_SCHEMAS[op],
          response: { 200: RESULT_SCHEMAS[op], ...errorResponses(400, 403, 404, 409, 413) },
        },
      },
      async (request) => {
        const call = toSyscallCall(op, request.body as BodyOf<typeof op>);
        const [result] = await app.sim.syscalls(request.params.pid, [call]);
        if (result instanceof SimError) throw result;
        return formatResult(op, result);
      },
    );
  }

  app.post(
    '/proc/:pid/syscalls',
    {
      bodyLimit: batchBodyLimit(app.serviceConfig),
      preValidation: batchCountCheck(maxBatch, 'calls'),
      schema: {
        tags,
        summary: 'Run calls in sequence; each gets its result or its errno',
        params: PidParams,
        body: Type.Object({ calls: Type.Array(CallEntry) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            results: Type.Array(
              Type.Union([Type.Record(Type.String(), Type.String()), ErrorReply]),
            ),
          }),
          ...errorResponses(400, 404, 413),
        },
      },
    },
    async (request, reply) => {
      const { calls } = request.body;
      const results = await runBatch(calls, syscallBatch(app.sim, request.params.pid));
      return reply
        .type('application/json; charset=utf-8')
        .send(JSON.stringify({ results }) as never);
    },
  );
};

export default mutationRoutes;
