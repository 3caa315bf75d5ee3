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
 * The engine behind the API. `--cpus 0` runs it on the event loop; the worker-CPU sim (issue 3)
 * takes over for `--cpus N > 0` once it exists.
 */
function createSim(config: ServiceConfig): SimApi {
  return createLocalSim({
    strategy: config.strategy,
    maxProcesses: config.maxProcesses,
    maxVmasPerProcess: config.maxVmasPerProcess,
    maxBatch: config.maxBatch,
    population: config.population,
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

  const sim = createSim(config);
  const app = await buildApp({ config, sim, logger: loggerOptions(config) });
  if (config.cpus > 0) {
    app.log.warn(
      { cpus: config.cpus },
      'worker CPUs are not available yet: the engine runs on the event loop (as --cpus 0)',
    );
  }
  closeWithGrace({ delay: config.closeGraceMs }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, 'closing after an error');
    else app.log.info({ signal }, 'closing: finishing in-flight requests');
    await app.close();
  });
  await app.listen({ host: config.host, port: config.port });
}

await main();
