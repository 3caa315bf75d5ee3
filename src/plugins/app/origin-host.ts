/**
 * Browser-borne requests are refused unless they come from where they should (403 EACCES):
 *
 * - **Host** (DNS rebinding): a page on `evil.example` whose name is re-pointed at 127.0.0.1 sends
 *   `Host: evil.example`. The Host header must name the listen address (`--host`; for a loopback
 *   one also `localhost`, `127.0.0.1`, `[::1]`), or one of `--allowed-hosts`. A service bound to
 *   all interfaces (`0.0.0.0`, `::`) cannot know its names: any Host is taken unless
 *   `--allowed-hosts` lists them. `/healthz` is exempt (probes use pod IPs).
 * - **Origin** (cross-site writes): a CORS "simple request" (`POST` with `text/plain`, or a
 *   WebSocket handshake) reaches the server even though the page cannot read the answer. Writes
 *   (every method but GET/HEAD/OPTIONS) and WebSocket upgrades that carry an `Origin` must come
 *   from the service's own origin (the Origin's host equals the Host header) or one of
 *   `--allowed-origins`. Requests without an Origin (curl, scripts, k6) are not browsers' and pass.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ServiceConfig } from '../../config.js';
import { ANSWERED, PASS } from './request-gate.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

function listOf(csv: string): string[] {
  return csv
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lowercase, brackets off. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') === -1 ? undefined : h.indexOf(']'));
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** The Host names accepted, or null for any. */
export function allowedHostNames(config: ServiceConfig): Set<string> | null {
  const configured = listOf(config.allowedHosts).map((h) => h.replace(/^\[|\]$/g, ''));
  if (configured.includes('*')) return null;
  if (configured.length > 0) return new Set(configured);
  const listen = config.host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (WILDCARD_HOSTS.has(listen)) return null;
  const loopback = listen === 'localhost' || listen === '::1' || listen.startsWith('127.');
  return new Set(loopback ? [listen, ...LOOPBACK_NAMES] : [listen]);
}

/** The origins accepted besides same-origin ones (normalized `scheme://host:port`), or null for any. */
function allowedOrigins(config: ServiceConfig): Set<string> | null {
  const list = listOf(config.allowedOrigins);
  if (list.includes('*')) return null;
  const out = new Set<string>();
  for (const o of list) {
    try {
      out.add(new URL(o).origin);
    } catch {
      out.add(o);
    }
  }
  return out;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** The Origin names the service itself: same host name and port as the Host header. */
function sameOrigin(origin: URL, hostHeader: string): boolean {
  const h = hostHeader.trim().toLowerCase();
  const portMatch = /:(\d+)$/.exec(h.startsWith('[') ? h.slice(h.indexOf(']')) : h);
  const defaultPort = DEFAULT_PORTS[origin.protocol] ?? '';
  const hostPort = portMatch ? portMatch[1] : defaultPort;
  const originHost = origin.hostname.replace(/^\[|\]$/g, '');
  return originHost === hostName(h) && (origin.port || defaultPort) === hostPort;
}

function isUpgrade(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & { upgrade?: boolean }).upgrade === true;
}

function refuse(reply: FastifyReply, message: string) {
  return reply.code(403).send({ error: 'EACCES', errno: 13, message });
}

/** Remembers the verdict on the last few Host values (clients send the same one every time). */
const HOST_CACHE_SIZE = 64;

async function originHost(app: FastifyInstance, opts: { config: ServiceConfig }): Promise<void> {
  const hosts = allowedHostNames(opts.config);
  const origins = allowedOrigins(opts.config);
  const hostVerdicts = new Map<string, boolean>();
  const hostAllowed = (host: string): boolean => {
    if (hosts === null) return true;
    let ok = hostVerdicts.get(host);
    if (ok === undefined) {
      ok = hosts.has(hostName(host));
      if (hostVerdicts.size >= HOST_CACHE_SIZE) hostVerdicts.clear();
      hostVerdicts.set(host, ok);
    }
    return ok;
  };
  // Every request passes here (src/plugins/app/request-gate.ts).
  app.requestGate.add({
    passes(raw: IncomingMessage) {
      if (!hostAllowed(raw.headers.host ?? '')) return false;
      const origin = raw.headers.origin;
      if (origin === undefined || origins === null) return true;
      return READ_METHODS.has(raw.method ?? '') && !isUpgrade(raw);
    },
    otherwise(request: FastifyRequest, reply: FastifyReply) {
      const host = request.headers.host ?? '';
      if (!hostAllowed(host) && request.url.split('?')[0] !== '/healthz') {
        refuse(reply, `Host "${host}" is not this service's (see --allowed-hosts)`);
        return ANSWERED;
      }
      const origin = request.headers.origin;
      if (origin === undefined || origins === null) return PASS;
      if (READ_METHODS.has(request.method) && !isUpgrade(request.raw)) return PASS;
      let parsed: URL | null = null;
      try {
        parsed = new URL(origin);
      } catch {
        // "null" (sandboxed frames, file://) and garbage: foreign.
      }
      if (parsed && (sameOrigin(parsed, host) || origins.has(parsed.origin))) return PASS;
      refuse(reply, `cross-origin request from "${origin}" refused (see --allowed-origins)`);
      return ANSWERED;
    },
  });
}

export default fp(originHost, { name: 'origin-host', dependencies: ['request-gate'] });
