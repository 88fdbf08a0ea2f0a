/**
 * lbc-admin token create|list|revoke: bearer tokens of tenants and admins. The token itself is
 * printed once, by create; the database keeps only its sha256.
 */
import { Command, InvalidArgumentError } from 'commander';
import { Redis } from 'ioredis';
import { LbcError } from '@lbc/contract';
import { loadConfig, openDatabase, withRedisTimeout } from '@lbc/core';
import { SharedTokens, TENANT_PATTERN, TokenStore, type TokenInfo } from '@lbc/api';

function withStore<T>(dataDir: string | undefined, work: (tokens: TokenStore) => T): T {
  const config = loadConfig(process.env, dataDir ? { dataDir } : {});
  const db = openDatabase(config.dataDir);
  try {
    return work(new TokenStore(db));
  } finally {
    db.close();
  }
}

/**
 * With REDIS_URL set (a farm of several API nodes), a change reaches the other nodes at once. Without
 * it, or with Redis down, the API of this data directory shares it when it next starts.
 */
async function shareWithFarm(dataDir: string | undefined): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) return;
  const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await withRedisTimeout(redis.connect(), 5000, 'connecting');
    const shared = new SharedTokens(redis);
    await withStore(dataDir, (tokens) => withRedisTimeout(shared.syncFrom(tokens), 5000, 'sharing tokens'));
  } catch (err) {
    process.stderr.write(`warning: not shared with the other API nodes (${(err as Error).message}); this node's API shares it when it next starts\n`);
  } finally {
    redis.disconnect();
  }
}

const tenantName = (value: string) => {
  if (!TENANT_PATTERN.test(value)) throw new InvalidArgumentError(`must match ${TENANT_PATTERN} (lower-case letters, digits, . _ -)`);
  return value;
};
const tokenId = (value: string) => {
  if (!/^[0-9]{1,15}$/.test(value)) throw new InvalidArgumentError('must be a token id from lbc-admin token list');
  return Number(value);
};

const describe = (t: TokenInfo) => `${t.id}\t${t.tenant}\t${t.admin ? 'admin' : 'tenant'}\t${t.createdAt}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'live'}\t${t.label}`;

export function tokenCommand(dataDir: () => string | undefined): Command {
  const token = new Command('token').description('bearer tokens: create, list, revoke');

  token
    .command('create')
    .description('create a token for a tenant; it is printed once, store it now')
    .requiredOption('--tenant <name>', 'tenant the token acts for', tenantName)
    .option('--admin', 'may also register kernels, ingest packages, manage tokens, read /metrics and the dashboard')
    .option('--label <text>', 'a note for lbc-admin token list (who holds it)')
    .option('--json', 'print the created token as JSON')
    .action(async (opts: { tenant: string; admin?: boolean; label?: string; json?: boolean }) => {
      const created = withStore(dataDir(), (tokens) => tokens.create({ tenant: opts.tenant, admin: opts.admin ?? false, label: opts.label }));
      await shareWithFarm(dataDir());
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(created)}\n`);
        return;
      }
      process.stdout.write(`${created.token}\n`);
      process.stderr.write(
        `token ${created.id} for tenant ${created.tenant}${created.admin ? ' (admin)' : ''}: shown once, store it now.\n` +
          `clients: LBC_TOKEN=<token>; HTTP: Authorization: Bearer <token>; dashboard: the token as password.\n`,
      );
    });

  token
    .command('list')
    .description('list tokens (never the tokens themselves)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const all = withStore(dataDir(), (tokens) => tokens.list());
      if (opts.json) process.stdout.write(`${JSON.stringify(all)}\n`);
      else process.stdout.write(['id\ttenant\trole\tcreated\tstate\tlabel', ...all.map(describe)].join('\n') + '\n');
    });

  token
    .command('revoke')
    .description('revoke a token: refused from the next request on (by every API node when REDIS_URL names the farm\'s Redis)')
    .argument('<id>', 'token id (lbc-admin token list)', tokenId)
    .action(async (id: number) => {
      const revoked = withStore(dataDir(), (tokens) => tokens.revoke(id));
      if (!revoked) throw new LbcError('LBC_ERR_TOKEN_NOT_FOUND', `id ${id}`);
      await shareWithFarm(dataDir());
      process.stdout.write(`revoked token ${revoked.id} of tenant ${revoked.tenant}\n`);
    });

  return token;
}
