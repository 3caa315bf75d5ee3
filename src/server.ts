/**
 * Entry point: configuration from flags/env, logger (JSON, or pretty on a TTY when pino-pretty is
 * installed), the app, listen, and a graceful shutdown: on SIGTERM/SIGINT the server stops
 * accepting, in-flight requests complete, then the sim (workers, activities) stops; if that takes
 * longer than `closeGraceMs` the process exits anyway.
 */
import closeWithGrace from 'close-with-grace';
import type { FastifyServerOptions } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, helpText, parseConfig, type ServiceConfig } from './config.js';
import { createLocalSim } from './cpus/local-sim.js';
import type { SimApi } from './cpus/sim-api.js';
import { WorkerSim } from './cpus/worker-sim.js';

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
 * The engine behind the API: worker CPUs (the default, `--cpus N`), or the event loop itself with
 * `--cpus 0` (no parallelism: strategies cannot race there).
 */
async function createSim(config: ServiceConfig): Promise<SimApi> {
  const common = {
    strategy: config.strategy,
    maxProcesses: config.maxProcesses,
    maxVmasPerProcess: config.maxVmasPerProcess,
    maxBatch: config.maxBatch,
    population: config.population,
  };
  if (config.cpus === 0) return createLocalSim(common);
  return WorkerSim.start({ ...common, cpus: config.cpus });
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

  const sim = await createSim(config);
  const app = await buildApp({ config, sim, logger: loggerOptions(config) });
  closeWithGrace({ delay: config.closeGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing: finishing in-flight requests');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
}

await main();
