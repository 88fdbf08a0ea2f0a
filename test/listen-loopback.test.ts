/**
 * `npm start` as the README has a new user run it: no REDIS_URL (a private redis-server), LBC_HOST
 * left at 127.0.0.1. Such a farm is this one process: nothing of it (API, the worker's blob
 * endpoint, Redis) may listen where another host reaches it. The real launcher, its sockets read
 * with ss.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '@lbc/test-support/service';

let service: RunningService;
beforeAll(async () => {
  // An empty REDIS_URL is unset to the launcher: it starts its own redis-server.
  service = await startService({ redisUrl: '', env: { LBC_HOST: '127.0.0.1' } });
}, 200_000);
afterAll(async () => {
  await service?.stop();
});

/** The process and every process below it. */
function processTree(root: number): Set<number> {
  const parentOf = new Map<number, number>();
  for (const line of execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' }).trim().split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    parentOf.set(pid!, ppid!);
  }
  const tree = new Set([root]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of parentOf) if (tree.has(ppid) && !tree.has(pid)) tree.add(pid), (grew = true);
  }
  return tree;
}

/** Listening TCP sockets (local address:port) of the given processes. */
function listeners(pids: Set<number>): string[] {
  const out: string[] = [];
  for (const line of execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' }).split('\n')) {
    const owners = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    if (owners.some((pid) => pids.has(pid))) out.push(line.trim().split(/\s+/)[3]!);
  }
  return out;
}

describe('the launcher with its own Redis', () => {
  it('listens on loopback only: the API, the private redis-server and the worker\'s blob endpoint', () => {
    const tree = processTree(service.process.pid!);
    const redis = [...tree].filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'redis-server');
    expect(redis.length).toBe(1);
    const addresses = listeners(tree);
    // The API, Redis and the worker's blob node at least.
    expect(addresses.length).toBeGreaterThanOrEqual(3);
    expect(addresses).toContain(new URL(service.url).host);
    for (const address of addresses) expect(address, addresses.join(' ')).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);
  });
});
