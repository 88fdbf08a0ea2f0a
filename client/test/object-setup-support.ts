/**
 * For the object set-up tests: a fixture object placed in a private client cache under the key
 * `new Lbc(name, source)` looks up, so the Lbc under test starts from a warm cache with a server
 * URL nothing listens on: any request to a service would fail the test.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lbc, type LbcOptions } from '../src/index.ts';
import { ObjectCache } from '../src/cache/object-cache.ts';
import { requestKey } from '../src/cache/request-key.ts';
import { detectTarget } from '../src/target/detect-target.ts';
import type { FixtureBuilder } from '@lbc/test-support/native-fixtures';

export const FIXTURES = join(import.meta.dirname, 'fixtures');
/** Port 9 (discard): nothing answers, so reaching for the service fails. */
export const DEAD_SERVER = 'http://127.0.0.1:9';

export function cachedLbc(fixtures: FixtureBuilder, cacheDir: string, name: string, fixture: string, opts: LbcOptions = {}): Lbc {
  const source = readFileSync(join(FIXTURES, `${fixture}.bpf.c`), 'utf8');
  const object = fixtures.object(fixture);
  const target = detectTarget();
  const sha = createHash('sha256').update(object).digest('hex');
  const key = requestKey({ name, source, includes: {}, cflags: [], target });
  new ObjectCache(cacheDir).put(key, { cacheKey: sha, artifactSha256: sha, warnings: '', createdAt: new Date().toISOString() }, object);
  return new Lbc(name, source, { cacheDir, server: DEAD_SERVER, target, cwd: FIXTURES, ...opts });
}

export function bpftoolJson<T>(...args: string[]): T {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' })) as T;
}
