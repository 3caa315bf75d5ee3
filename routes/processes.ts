/**
 * Processes (API.md "Processes"): list, create (template or imported maps), inspect, fork, exit,
 * and the activity that keeps a process busy.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { batchBodyLimit } from '../src/schemas/body-limits.js';
import { errorResponses, PidParams } from '../src/schemas/common.js';
import { httpError } from '../src/schemas/errors.js';
import {
  ActivityBody,
  ActivityStatusBody,
  CreateProcessBody,
  formatActivity,
  formatProcessDetail,
  ProcessDetailBody,
  ProcessListBody,
  ProcessListQuery,
  ProcessSummaryBody,
  toActivitySpec,
  toReplaySpec,
} from '../src/schemas/processes.js';
import { UapiValueError } from '../src/schemas/uapi.js';

const tags = ['processes'];

const processRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const maxLoop = app.serviceConfig.maxBatch;

  app.get(
    '/processes',
    {
      schema: {
        tags,
        summary: 'List processes',
        querystring: ProcessListQuery,
        response: { 200: ProcessListBody, ...errorResponses(400) },
      },
    },
    async (request) => {
      const { offset = 0, limit = 100 } = request.query;
      return app.sim.listProcesses(offset, limit);
    },
  );

  app.post(
    '/processes',
    {
      // An imported maps text or a recorded trace can be megabytes (src/schemas/body-limits.ts).
      bodyLimit: app.serviceConfig.bodyLimit,
      schema: {
        tags,
        summary: 'Create a process from a template or an imported maps text',
        body: CreateProcessBody,
        response: { 201: ProcessSummaryBody, ...errorResponses(400, 409, 413, 429) },
      },
      // Every field is optional, so no body at all means "all defaults".
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.template !== undefined && body.maps !== undefined) {
        throw new UapiValueError('EINVAL', 'give "template" or "maps", not both');
      }
      if (body.replay !== undefined && body.activity !== undefined) {
        throw new UapiValueError('EINVAL', 'give "activity" or "replay", not both');
      }
      if (
        body.replay === undefined &&
        (body.speed !== undefined || body.loop !== undefined || body.final_maps !== undefined)
      ) {
        throw new UapiValueError('EINVAL', '"speed", "loop" and "final_maps" go with "replay"');
      }
      const fileMaps = [body.maps ?? '', body.final_maps ?? ''];
      const activity =
        body.replay !== undefined
          ? toReplaySpec(body.replay, fileMaps, body.speed ?? 1, body.loop ?? false)
          : body.activity
            ? toActivitySpec(body.activity, maxLoop)
            : undefined;
      const created = await app.sim.createProcess({
        comm: body.comm,
        template: body.template,
        maps: body.maps,
        activity,
        pkeys: body.pkeys,
      });
      reply.code(201);
      return created;
    },
  );

  app.get(
    '/processes/:pid',
    {
      schema: {
        tags,
        summary: 'Inspect a process',
        params: PidParams,
        response: { 200: ProcessDetailBody, ...errorResponses(400, 404) },
      },
    },
    async (request) => formatProcessDetail(await app.sim.inspectProcess(request.params.pid)),
  );

  app.post(
    '/processes/:pid/fork',
    {
      schema: {
        tags,
        summary: 'fork(2): a child with a copy of the address space',
        params: PidParams,
        response: {
          201: Type.Object({ pid: Type.Integer() }),
          ...errorResponses(400, 404, 409, 429),
        },
      },
    },
    async (request, reply) => {
      const child = await app.sim.forkProcess(request.params.pid);
      reply.code(201);
      return { pid: child.pid };
    },
  );

  app.delete(
    '/processes/:pid',
    {
      schema: {
        tags,
        summary: 'exit: the process is gone (later requests: 404 ESRCH)',
        params: PidParams,
        response: { 204: Type.Null(), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      await app.sim.exitProcess(request.params.pid);
      reply.code(204).send(null);
    },
  );

  app.put(
    '/processes/:pid/activity',
    {
      bodyLimit: batchBodyLimit(app.serviceConfig),
      schema: {
        tags,
        summary: 'Make the process busy: a loop of calls or a built-in profile',
        params: PidParams,
        body: ActivityBody,
        response: { 200: ActivityStatusBody, ...errorResponses(400, 404, 413) },
      },
    },
    async (request) => {
      const spec = toActivitySpec(request.body, maxLoop);
      return formatActivity(await app.sim.setActivity(request.params.pid, spec));
    },
  );

  app.get(
    '/processes/:pid/activity',
    {
      schema: {
        tags,
        summary: 'The running activity with its counts (404 ENOENT when idle)',
        params: PidParams,
        response: { 200: ActivityStatusBody, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const status = await app.sim.getActivity(request.params.pid);
      if (!status) throw httpError('ENOENT', `process ${request.params.pid} has no activity`);
      return formatActivity(status);
    },
  );

  app.delete(
    '/processes/:pid/activity',
    {
      schema: {
        tags,
        summary: 'Stop the activity',
        params: PidParams,
        response: { 204: Type.Null(), ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const stopped = await app.sim.stopActivity(request.params.pid);
      if (!stopped) throw httpError('ENOENT', `process ${request.params.pid} has no activity`);
      reply.code(204).send(null);
    },
  );
};

export default processRoutes;
