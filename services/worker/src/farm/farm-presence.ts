/**
 * How a compile worker stays visible to the farm: its heartbeat in the worker registry, and its
 * Docker engine watched (also while idle, so the API refuses compiles before one fails). A lost
 * engine is reported at once, and `onDocker` pauses or resumes the worker's queue.
 */
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import type { WorkerReport } from '@lbc/core';
import { DockerHealth } from './docker-health.ts';
import { startPresence } from './presence.ts';

export interface FarmPresenceOptions {
  docker: Dockerode;
  /** The worker's own waiting connection. */
  redis: Redis;
  /** What the heartbeat says besides the engine's health. */
  report: () => Omit<WorkerReport, 'id' | 'host' | 'pid' | 'dockerOk'>;
  heartbeatMs?: number;
  /** The engine answers again (true) or stopped answering (false). */
  onDocker: (ok: boolean) => void;
}

export interface FarmPresence {
  /** The worker's id in the registry. */
  readonly id: string;
  /** Asks the engine now: does it answer? */
  dockerOk(): Promise<boolean>;
  /** Stops watching and leaves the registry. */
  stop(): Promise<void>;
}

export function startFarmPresence(opts: FarmPresenceOptions): FarmPresence {
  const health = new DockerHealth({
    docker: opts.docker,
    onChange: (ok) => {
      opts.onDocker(ok);
      presence.beat();
    },
  });
  const presence = startPresence(opts.redis, () => ({ ...opts.report(), dockerOk: health.ok }), opts.heartbeatMs);
  const dockerWatch = setInterval(() => void health.check(), opts.heartbeatMs ?? 2000);
  dockerWatch.unref();
  return {
    id: presence.id,
    dockerOk: () => health.check(),
    async stop() {
      clearInterval(dockerWatch);
      health.stop();
      await presence.stop();
    },
  };
}
