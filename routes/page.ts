/**
 * `GET /` and `GET /ui/:file` (API.md "Additions → Page"): the live page, built from `ui/` by
 * `npm run build` into `dist/ui/` (scripts/build-ui.ts). The files are read once when the app is
 * built and served from memory; they hold no data (the page fetches everything through the API),
 * so they are served without the `--token` bearer (src/app.ts). Nothing here runs unless a
 * browser asks: the page costs the service nothing while nobody has it open.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { HTTP_ERRNO } from '../src/schemas/errors.js';

/** dist/ui next to dist/routes (this file compiles to dist/routes/page.js). */
export const UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Every servable file of the built page, by name (a fixed set: no path from a URL hits the disk). */
function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}

const pageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const assets = loadAssets(UI_DIR);
  // With --token the page asks for it before its first call (and never sends one otherwise).
  const index = assets.get('index.html');
  if (index && app.serviceConfig.token !== '') {
    const html = index.body
      .toString('utf8')
      .replace('<html lang="en">', '<html lang="en" data-token="required">');
    assets.set('index.html', { ...index, body: Buffer.from(html) });
  }
  const notBuilt = {
    error: 'ENOENT',
    errno: HTTP_ERRNO.ENOENT,
    message: 'the page is not built: run npm run build',
  };

  app.get('/', { logLevel: 'warn', schema: { hide: true } }, async (_request, reply) => {
    const page = assets.get('index.html');
    if (!page) return reply.code(404).send(notBuilt);
    return reply.type(page.type).header('cache-control', 'no-cache').send(page.body);
  });

  app.get(
    '/ui/:file',
    {
      logLevel: 'warn',
      schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 100 }) }) },
    },
    async (request, reply) => {
      const asset = assets.get(request.params.file);
      if (!asset) {
        return reply.code(404).send({
          error: 'ENOENT',
          errno: HTTP_ERRNO.ENOENT,
          message: assets.size === 0 ? notBuilt.message : `no asset ${request.params.file}`,
        });
      }
      return reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body);
    },
  );
};

export default pageRoutes;
