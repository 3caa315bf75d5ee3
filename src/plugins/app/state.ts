/**
 * Durable state (`--state-dir`): `app.stateStore` (null without a state directory) for the
 * snapshot route, and the snapshot metrics, observed on every save.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createSnapshotMetrics } from '../../metrics/snapshot-metrics.js';
import type { StateStore } from '../../state/state-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    stateStore: StateStore | null;
  }
}

export interface StatePluginOptions {
  store: StateStore | null;
}

async function statePlugin(app: FastifyInstance, opts: StatePluginOptions): Promise<void> {
  app.decorate('stateStore', opts.store);
  if (opts.store === null) return;
  const m = createSnapshotMetrics(app.metrics.registry);
  const off = opts.store.onSave((r) => {
    if (r instanceof Error) {
      m.saves.inc({ result: 'error' });
      app.log.error({ err: r }, 'snapshot failed');
      return;
    }
    m.saves.inc({ result: 'ok' });
    m.duration.observe(r.durationMs / 1000);
    m.bytes.set(r.bytes);
    m.vmas.set(r.vmas);
    app.log.info(
      { path: r.path, bytes: r.bytes, processes: r.processes, vmas: r.vmas, ms: r.durationMs },
      'snapshot written',
    );
  });
  app.addHook('onClose', async () => off());
}

export default fp(statePlugin, { name: 'state', dependencies: ['sim', 'metrics'] });
