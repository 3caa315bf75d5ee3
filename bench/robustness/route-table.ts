/**
 * The app's route table, read from fastify itself (`printRoutes`, which lists every route,
 * including those hidden from the OpenAPI document), as `METHOD /path` keys. The fuzzer covers
 * exactly this list, so a route added without fuzz coverage is noticed (test/robustness).
 */
import type { FastifyInstance } from 'fastify';

export interface RouteKey {
  method: string;
  /** The pattern as registered: `/proc/:pid/maps`. */
  url: string;
}

export const routeKeyString = (r: RouteKey) => `${r.method} ${r.url}`;

/**
 * Parses fastify's route tree (`printRoutes({ commonPrefix: false })`): each line is a tree
 * prefix (4 characters per level), a path segment, and the methods in parentheses; a route's
 * path is its segment appended to its ancestors'. Throws on a line it cannot read, so a format
 * change of fastify fails loudly instead of hiding routes.
 */
export function parseRouteTree(tree: string): RouteKey[] {
  const routes: RouteKey[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    if (line.trim() === '') continue;
    const m = /^([\s│├└─]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m || m[1].length % 4 !== 0) throw new Error(`cannot read route tree line: ${line}`);
    const depth = m[1].length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const url = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim())) {
      if (method) routes.push({ method, url });
    }
  }
  return routes;
}

/** Every route of a ready app. */
export function routeTable(app: FastifyInstance): RouteKey[] {
  return parseRouteTree(app.printRoutes({ commonPrefix: false }));
}
