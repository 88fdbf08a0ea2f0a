/**
 * One compile, many loads, through the real service: the first start compiles (one POST
 * /v1/compile), every later start with another pid in the constant loads the cached object and
 * sends the service nothing, as its own request counter shows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Lbc } from '../src/index.ts';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { FIXTURES } from './object-setup-support.ts';

const SOURCE = readFileSync(join(FIXTURES, 'object-setup.bpf.c'), 'utf8');
const native = useNativeFixtures();

/** POST /v1/compile requests the service has answered, from its Prometheus counter. */
async function compileRequests(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('lbc_http_requests_total{') && line.includes('method="POST"') && line.includes('route="/v1/compile"')) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

describe('one compile, many loads', () => {
  // Compile requests are counted on /metrics, read without a token (LBC_METRICS_ACCESS=tenant).
  const env = useServiceFixture('lbc-setup-svc-', undefined, undefined, { env: { LBC_METRICS_ACCESS: 'tenant' } });

  it('two pids from one compile: the second start does not reach the service', async () => {
    const cacheDir = join(env.dir, 'cache');
    const origins: string[] = [];
    const counts: number[] = [await compileRequests(env.service.url)];
    for (let run = 0; run < 2; run++) {
      const child = spawn(native.workload, ['10', 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
      const lbc = await new Lbc('svcsetup', SOURCE, { server: env.service.url, cacheDir, cwd: env.dir, load: false }).ready;
      try {
        origins.push(lbc.origin!);
        lbc.rodata.target_pid = child.pid!;
        await lbc.load();
        await lbc.attach();
        const exited = once(child, 'exit');
        child.stdin!.end('go\n');
        await exited;
        for (let i = 0; i < 50 && lbc.bss.matched !== 10n; i++) await sleep(10);
        expect(lbc.bss.matched).toBe(10n);
        expect(lbc.bss.last_pid).toBe(child.pid);
      } finally {
        lbc.close();
      }
      counts.push(await compileRequests(env.service.url));
    }
    expect(origins).toEqual(['service', 'cache']);
    expect(counts[1]! - counts[0]!).toBe(1);
    expect(counts[2]).toBe(counts[1]);
  });
});
