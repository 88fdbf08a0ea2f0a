import { accessSync, constants, statfsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { RedisOwner } from '@lbc/core';

/** Readiness wants at least this much free space under the data directory. */
const MIN_FREE_BYTES = 256 * 1024 * 1024;

export interface DockerPing {
  ping(): Promise<unknown>;
}

interface Check {
  ok: boolean;
  detail?: string;
}

const checkSchema = { type: 'object', properties: { ok: { type: 'boolean' }, detail: { type: 'string' } } };
const readySchema = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, checks: { type: 'object', properties: { redis: checkSchema, docker: checkSchema, disk: checkSchema } } },
};

async function check(work: () => Promise<string | void>): Promise<Check> {
  try {
    const detail = await work();
    return detail ? { ok: true, detail } : { ok: true };
  } catch (err) {
    return { ok: false, detail: (err as Error).message };
  }
}

function diskCheck(dataDir: string): string {
  accessSync(dataDir, constants.W_OK);
  const fs = statfsSync(dataDir);
  const free = fs.bavail * fs.bsize;
  if (free < MIN_FREE_BYTES) throw new Error(`only ${free} bytes free under the data directory`);
  return `${Math.floor(free / 1024 / 1024)} MiB free`;
}

export function healthRoutes(app: FastifyInstance, deps: { redis: Pick<RedisOwner, 'ping'>; docker?: DockerPing; dataDir: string; timeoutMs: number }): void {
  app.get('/healthz', { schema: { summary: 'The process is alive', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' } } } } } }, async () => ({ ok: true }));

  app.get('/readyz', { schema: { summary: 'Redis, Docker and disk are usable', response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    const [redis, docker, disk] = await Promise.all([
      check(() => deps.redis.ping()),
      check(async () => {
        if (!deps.docker) return 'not used by this process';
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([deps.docker.ping(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('Docker did not answer')), deps.timeoutMs)))]).finally(() => clearTimeout(timer));
      }),
      check(async () => diskCheck(deps.dataDir)),
    ]);
    const ok = redis.ok && docker.ok && disk.ok;
    return reply.status(ok ? 200 : 503).send({ ok, checks: { redis, docker, disk } });
  });
}
