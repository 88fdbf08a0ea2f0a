// Writes docs/redis-keys.md from the one Redis key catalogue (services/core/src/redis/redis-keys.ts).
import { writeFileSync } from 'node:fs';
import { REDIS_KEYS } from '../services/core/src/redis/redis-keys.ts';

const cell = (text: string) => text.replaceAll('|', '\\|');

export function renderRedisKeysDoc(): string {
  const rows = Object.entries(REDIS_KEYS).map(([name, spec]) => {
    return `| \`${name}\` | \`${cell(spec.pattern)}\` | ${spec.type} | ${cell(spec.ttl)} | ${cell(spec.writer)} | ${cell(spec.readers)} | ${cell(spec.holds)}. |`;
  });
  return [
    '# What lbc keeps in Redis',
    '',
    'Redis holds the job queues (BullMQ) and small shared metadata, never objects or BTF (the blob store',
    'holds those); every key is one entry of the',
    'catalogue in `services/core/src/redis/redis-keys.ts`, whose builders are the only place a key is spelled.',
    'Generated from it (`node --import tsx scripts/gen-redis-keys-doc.ts`).',
    '',
    '| name | key | type | expires | written by | read by | holds |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/redis-keys.md', import.meta.url), renderRedisKeysDoc());
}
