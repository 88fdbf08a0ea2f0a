/**
 * lbc-server [all|api|worker]: `npm start` runs `all` — API and worker in one process, with a
 * private redis-server unless REDIS_URL is set. Flags override the environment.
 */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { isLbcError } from '@lbc/contract';
import { loadConfig, type LbcConfig } from '@lbc/core';
import { startServer, type ServerMode } from './start.ts';

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
};

const program = new Command('lbc-server')
  .description('lbc compile farm: HTTP API, compile queue and clang-in-Docker workers')
  .argument('[mode]', 'all | api | worker', 'all')
  .option('--data-dir <dir>', 'SQLite index, blobs, private Redis (env LBC_DATA_DIR, default ./.data)')
  .option('--redis-url <url>', 'Redis to use instead of a private one (env REDIS_URL)')
  .option('--port <port>', 'API port (env LBC_PORT, default 8080)', int)
  .option('--host <host>', 'API address (env LBC_HOST, default 127.0.0.1)')
  .option('--image <tag>', 'compile image (env LBC_IMAGE)')
  .option('--concurrency <n>', 'compiles at once in this process (env LBC_WORKER_CONCURRENCY, default 2)', int)
  .option('--cache-max-bytes <n>', 'artifact cache bound (env LBC_CACHE_MAX_BYTES)', int)
  .option('--log-level <level>', 'pino level (env LBC_LOG_LEVEL, default info)')
  .action(async (mode: string, flags: Record<string, string | number | undefined>) => {
    if (!['all', 'api', 'worker'].includes(mode)) program.error(`unknown mode ${JSON.stringify(mode)}: use all, api or worker`);
    const overrides: Partial<LbcConfig> = {};
    if (flags.dataDir) overrides.dataDir = String(flags.dataDir);
    if (flags.redisUrl) overrides.redisUrl = String(flags.redisUrl);
    if (flags.port !== undefined) overrides.port = Number(flags.port);
    if (flags.host) overrides.host = String(flags.host);
    if (flags.image) overrides.image = String(flags.image);
    if (flags.concurrency !== undefined) overrides.workerConcurrency = Number(flags.concurrency);
    if (flags.cacheMaxBytes !== undefined) overrides.cacheMaxBytes = Number(flags.cacheMaxBytes);
    if (flags.logLevel) overrides.logLevel = String(flags.logLevel);
    let config: LbcConfig;
    try {
      config = loadConfig(process.env, overrides);
    } catch (err) {
      // A bad setting in the environment: its message names the variable and what it must be.
      return program.error(`lbc-server: ${(err as Error).message}`);
    }
    const log = pino({ level: config.logLevel, name: 'lbc-server' });

    let server: Awaited<ReturnType<typeof startServer>>;
    try {
      server = await startServer(config, mode as ServerMode, log);
    } catch (err) {
      log.fatal(isLbcError(err) ? err.format() : { err }, 'lbc-server failed to start');
      process.exit(1);
    }
    let closing = false;
    const shutdown = (signal: NodeJS.Signals) => {
      if (closing) return;
      closing = true;
      log.info({ signal }, 'shutting down');
      server.close().then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });

await program.parseAsync(process.argv);
