/**
 * Entry point: configuration from flags/env, logger (JSON, or pretty on a TTY when pino-pretty is
 * installed), the state restored from `--state-dir` (if any), the app, listen, and a graceful
 * shutdown: on SIGTERM/SIGINT the server stops accepting, in-flight requests complete, every
 * process is written to `--state-dir`, then the sim (workers, activities) stops; if that takes
 * longer than `closeGraceMs` the process exits anyway.
 */
// First: before loading the rest can trigger a major GC (tick-object-shape.ts says why), and
// V8's inlining budget before anything is optimised (v8-inlining.ts).
import './tick-object-shape.js';
import './v8-inlining.js';
import closeWithGrace from 'close-with-grace';
import type { FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, helpText, parseConfig, type ServiceConfig } from './config.js';
import { Sim } from './cpus/sim.js';
import type { SimApi } from './cpus/sim-api.js';
import { hostHasZeroPage, resolvePkeys, resolveThp } from './machine-caps.js';
import { ImageRestoreError } from './mm/image/table-image.js';
import { RestoreRefusedError, type RestoreTotals, restoreService } from './state/service-image.js';
import { type LoadResult, StateStore } from './state/state-store.js';

function loggerOptions(config: ServiceConfig): FastifyServerOptions['logger'] {
  if (process.stdout.isTTY) {
    try {
      // pino-pretty is a dev dependency: only use it where it is installed.
      import.meta.resolve('pino-pretty');
      return {
        level: config.logLevel,
        transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l' } },
      };
    } catch {
      // fall through to JSON logs
    }
  }
  return { level: config.logLevel };
}

/**
 * The engine behind the API, over the transport `--cpus` picks: worker CPUs (the default,
 * `--cpus N`), or the event loop itself with `--cpus 0` (no parallelism: nothing races there).
 */
function createSim(config: ServiceConfig, population: number): Promise<SimApi> {
  return Sim.start({
    strategy: config.strategy,
    cpus: config.cpus,
    reads: config.reads,
    maxProcesses: config.maxProcesses,
    maxVmasPerProcess: config.maxVmasPerProcess,
    maxActivities: config.maxActivities === 0 ? undefined : config.maxActivities,
    maxMemory: config.maxMemory,
    maxBatch: config.maxBatch,
    population,
    pidBase: config.pidBase,
    pkeys: resolvePkeys(config.pkeysMode),
    noZeroPage: !hostHasZeroPage(),
    thp: resolveThp(config.thpMode),
  });
}

async function main(): Promise<void> {
  let config: ServiceConfig;
  try {
    const parsed = parseConfig(process.argv.slice(2), process.env);
    if (parsed.help) {
      process.stdout.write(helpText());
      return;
    }
    config = parsed.config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`procfs-sim: ${e.message}\n\n${helpText()}`);
    process.exitCode = 2;
    return;
  }

  // A snapshot replaces the built-in population; a refused one leaves the service empty.
  const store = config.stateDir === '' ? null : new StateStore(config.stateDir);
  let loaded: LoadResult | null = store === null ? null : await store.load();
  const population = loaded === null || loaded.kind === 'none' ? config.population : 0;
  const sim = await createSim(config, population);
  let restored: RestoreTotals | null = null;
  if (store !== null && loaded?.kind === 'found') {
    try {
      restored = await restoreService(loaded.image, sim.durable as NonNullable<SimApi['durable']>);
    } catch (err) {
      if (!(err instanceof RestoreRefusedError || err instanceof ImageRestoreError)) throw err;
      loaded = await store.setAside(err.message);
    }
  }
  const app = await buildApp({
    config,
    sim,
    closeSim: false,
    stateStore: store,
    logger: loggerOptions(config),
  });
  if (loaded?.kind === 'found' && restored !== null) {
    app.log.info({ path: loaded.path, bytes: loaded.bytes, ...restored }, 'state restored');
    if (restored.otherThp > 0) {
      app.log.warn(
        { otherThp: restored.otherThp, modes: restored.otherThpModes, thp: config.thpMode },
        `${restored.otherThp} restored process(es) keep the THP mode they were snapshotted under (${Object.keys(restored.otherThpModes).join(', ')}), not this service's --thp; new processes take --thp`,
      );
    }
  } else if (loaded?.kind === 'refused') {
    app.log.error(
      { path: loaded.path, movedTo: loaded.movedTo, reason: loaded.reason },
      `snapshot refused (${loaded.reason}); starting EMPTY, the refused file is kept at ${loaded.movedTo}`,
    );
  } else if (loaded?.kind === 'none') {
    app.log.info(
      { path: loaded.path, population },
      'no snapshot yet: starting with the population',
    );
  }
  closeWithGrace({ delay: config.closeGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing: finishing in-flight requests');
    try {
      await app.close();
      if (store !== null) {
        const r = await store.save(sim);
        app.log.info({ ...r }, 'state written for the next start');
      }
    } catch (e) {
      app.log.error({ err: e }, 'could not write the state on shutdown');
    } finally {
      await sim.close();
    }
  });
  await app.listen({ host: config.host, port: config.port });
}

await main();
