/**
 * The app's `application/json` body parser (one function, so that a route context with its own
 * parser — the batch query's, routes/query-batch.ts — falls back to exactly this one):
 * an empty body with a JSON content type (curl -H 'content-type: application/json' -X POST
 * …/fork) means "no body", not a parse error; a body nested deeper than any request needs is
 * refused before parsing (json-depth.ts); anything else goes to fastify's (proto-safe) parser.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';
import { UapiValueError } from './uapi.js';

export type JsonBodyParser = (
  request: FastifyRequest,
  body: Buffer,
  done: (err: Error | null, body?: unknown) => void,
) => void;

export function jsonBodyParser(app: FastifyInstance): JsonBodyParser {
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  return (request, bytes, done) => {
    if (bytes.length === 0) done(null, undefined);
    else if (jsonNestsDeeperThan(bytes, MAX_JSON_DEPTH)) {
      done(new UapiValueError('EINVAL', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    } else jsonParser(request, bytes as unknown as string, done); // it takes a Buffer too
  };
}
