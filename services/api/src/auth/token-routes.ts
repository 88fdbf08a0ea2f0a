/** Token management over HTTP for admins (lbc-admin does the same on the data directory). */
import type { FastifyInstance } from 'fastify';
import { LbcError } from '@lbc/contract';
import { TENANT_PATTERN, hashToken, type TokenStore } from './token-store.ts';
import { type SharedTokens } from './shared-tokens.ts';
import { errorResponses } from '../schemas.ts';

const tokenInfo = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    tenant: { type: 'string' },
    admin: { type: 'boolean' },
    label: { type: 'string' },
    createdAt: { type: 'string' },
    revokedAt: { type: ['string', 'null'] },
  },
} as const;

export interface TokenRouteDeps {
  tokens: TokenStore;
  /** Other API nodes learn of created and revoked tokens through it. */
  shared?: SharedTokens;
  guard: <T>(work: Promise<T>, what: string) => Promise<T>;
}

export function tokenRoutes(app: FastifyInstance, { tokens, shared, guard }: TokenRouteDeps): void {
  app.get('/v1/tokens', {
    schema: { summary: 'Tokens (admin); the tokens themselves are never shown again', response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenInfo } } } } },
  }, async () => ({ tokens: tokens.list() }));

  app.post<{ Body: { tenant: string; admin?: boolean; label?: string } }>(
    '/v1/tokens',
    {
      schema: {
        summary: 'Create a token (admin); the answer is the only place the token appears',
        body: {
          type: 'object',
          required: ['tenant'],
          additionalProperties: false,
          properties: { tenant: { type: 'string', pattern: TENANT_PATTERN.source }, admin: { type: 'boolean' }, label: { type: 'string', maxLength: 200 } },
        },
        response: { 201: { ...tokenInfo, properties: { ...tokenInfo.properties, token: { type: 'string' } } }, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const created = tokens.create(request.body);
      if (shared) await guard(shared.publish(hashToken(created.token), { tokenId: created.id, tenant: created.tenant, admin: created.admin }), 'sharing the token');
      request.log.info({ tokenId: created.id, tenant: created.tenant, admin: created.admin, by: request.principal.tenant }, 'token created');
      return reply.status(201).send(created);
    },
  );

  app.delete<{ Params: { id: number } }>(
    '/v1/tokens/:id',
    {
      schema: {
        summary: 'Revoke a token (admin)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9]{1,15}$' } } },
        response: { 200: tokenInfo, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => {
      const revoked = tokens.revoke(Number(request.params.id));
      if (!revoked) throw new LbcError('LBC_ERR_TOKEN_NOT_FOUND', `id ${request.params.id}`);
      const tokenHash = tokens.hashOf(revoked.id);
      if (shared && tokenHash) await guard(shared.withdraw(tokenHash), 'withdrawing the token');
      request.log.info({ tokenId: revoked.id, tenant: revoked.tenant, by: request.principal.tenant }, 'token revoked');
      return revoked;
    },
  );
}
