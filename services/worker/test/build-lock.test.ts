/** The kernel-set build lock: one holder at a time, and a lock left by a killed process is taken over. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withBuildLock } from '../src/kernel-set/build-lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'lbc-lock-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('withBuildLock', () => {
  it('runs holders one at a time', async () => {
    const path = join(dir, 'a.lock');
    const order: string[] = [];
    const hold = (name: string) =>
      withBuildLock(path, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 300));
        order.push(`${name}-`);
      });
    await Promise.all([hold('one'), hold('two')]);
    expect(order.join(' ')).toMatch(/^(one\+ one- two\+ two-|two\+ two- one\+ one-)$/);
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose owner process is dead', async () => {
    const path = join(dir, 'b.lock');
    const dead = spawnSync('true').pid!;
    writeFileSync(path, `${hostname()} ${dead}`);
    const started = Date.now();
    expect(await withBuildLock(path, async () => 'ran')).toBe('ran');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('waits for a live owner, up to its bound', async () => {
    const path = join(dir, 'c.lock');
    writeFileSync(path, `${hostname()} ${process.pid}`);
    await expect(withBuildLock(path, async () => 'ran', 500)).rejects.toThrow(/timed out/);
  });
});
