/**
 * The Redis key catalogue is the only place a key is spelled: every entry has a builder that makes
 * exactly its pattern, patterns are unique, docs/redis-keys.md is generated from it, and no source
 * file of the tree spells an lbc key by itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REDIS_KEYS, REDIS_PREFIX, redisKey, type RedisKeyName } from '../src/redis/redis-keys.ts';
import { renderRedisKeysDoc } from '../../../scripts/gen-redis-keys-doc.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CATALOGUE = 'services/core/src/redis/redis-keys.ts';
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'prebuilds', '.data', 'coverage']);
const SOURCE = /\.(c|m)?(t|j)s$|\.sh$/;

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name) && !entry.name.startsWith('.')) sourceFiles(join(dir, entry.name), out);
    } else if (entry.isFile() && SOURCE.test(entry.name)) out.push(join(dir, entry.name));
  }
  return out;
}

/**
 * A key literal (the prefix, a colon, a name or a placeholder) or a key built on the prefix constant
 * in a template literal; not a message that starts with "lbc: ". Written without the spellings
 * they look for, so this file passes its own check.
 */
const KEY_SPELLINGS = [new RegExp('\\b' + REDIS_PREFIX + ':[\\w<{$*-]'), new RegExp('\\$\\{REDIS_PREFIX\\}:')];

describe('the Redis key catalogue', () => {
  it('builds each pattern with the builder of the same name', () => {
    const names = Object.keys(REDIS_KEYS) as RedisKeyName[];
    expect(Object.keys(redisKey).sort()).toEqual([...names].sort());
    for (const name of names) {
      const placeholders = [...REDIS_KEYS[name].pattern.matchAll(/<([^>]+)>/g)].map((m) => `<${m[1]}>`);
      const build = redisKey[name] as (...args: string[]) => string;
      expect(build(...placeholders), name).toBe(REDIS_KEYS[name].pattern);
    }
  });

  it('has unique patterns, each either an lbc key or a BullMQ queue', () => {
    const patterns = Object.values(REDIS_KEYS).map((k) => k.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
    for (const spec of Object.values(REDIS_KEYS)) {
      expect(spec.type === 'BullMQ queue' ? spec.pattern.startsWith('bull:') : spec.pattern.startsWith(REDIS_PREFIX + ':'), spec.pattern).toBe(true);
    }
  });

  it('is what docs/redis-keys.md says (regenerate: node --import tsx scripts/gen-redis-keys-doc.ts)', () => {
    expect(readFileSync(join(ROOT, 'docs/redis-keys.md'), 'utf8')).toBe(renderRedisKeysDoc());
  });

  it('is the only source file that spells a key', () => {
    const files = sourceFiles(ROOT).map((f) => relative(ROOT, f));
    expect(files).toContain(CATALOGUE);
    const spelling = files.filter((file) => file !== CATALOGUE && KEY_SPELLINGS.some((re) => re.test(readFileSync(join(ROOT, file), 'utf8'))));
    expect(spelling).toEqual([]);
  });
});
