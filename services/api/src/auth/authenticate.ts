/**
 * The authentication hook: runs first on every request, sets request.principal, and refuses what the
 * route's access level (access-policy.ts) does not allow. Token holders are always checked, even on
 * loopback, so a revoked token fails everywhere; requests without one are let in only as the auth
 * mode allows (loopback clients in "loopback" mode, everyone with "off").
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LbcError } from '@lbc/contract';
import { isLoopbackAddress, type AuthMode } from '@lbc/core';
import { type Principal } from './token-store.ts';
import { accessFor, type Access, type AccessSettings } from './access-policy.ts';
import { readCredentials } from './credentials.ts';
import type { RequestPrincipal } from './principal.ts';
import { callerRequestId } from '../request-id.ts';

export interface AuthenticationOptions {
  mode: AuthMode;
  /** LBC_LOOPBACK_ADMIN: loopback callers without a token administer too (loopback mode). */
  loopbackAdmin?: boolean;
  access?: AccessSettings;
  /** The principal of a live token, else null (auth/token-verifier.ts). */
  verify: (token: string) => Promise<Principal | null>;
  onDenied?: (reason: 'missing' | 'invalid' | 'forbidden') => void;
}

export function installAuthentication(app: FastifyInstance, options: AuthenticationOptions): void {
  app.decorateRequest('principal', null as unknown as RequestPrincipal);
  app.decorateRequest('access', 'tenant' as Access);
  app.addHook('onRequest', async (request, reply) => {
    const access = accessFor(request.method, request.routeOptions.url ?? request.url, options.access);
    request.access = access;
    const deny = (reason: 'missing' | 'invalid' | 'forbidden', err: LbcError) => {
      options.onDenied?.(reason);
      // Browsers show a login prompt for Basic; the token goes in the password field.
      if (err.status === 401) reply.header('WWW-Authenticate', access === 'admin' && isPage(request) ? 'Basic realm="lbc", charset="UTF-8"' : 'Bearer realm="lbc"');
      // Answered here, not thrown: plugins with their own error handler (the queue board) would
      // turn a thrown refusal into a 500 without the challenge.
      request.log.info({ code: err.code }, err.message);
      return reply.status(err.status).type('application/json').send(err.toBody());
    };

    // Probes and the API description answer without looking at credentials (a probe must not wait on Redis).
    if (access === 'public') {
      request.principal = { tenant: 'anonymous', admin: false, anonymous: true };
      return;
    }
    const credentials = readCredentials(request.headers.authorization);
    const anonymousAllowed = options.mode === 'off' || (options.mode === 'loopback' && isLoopbackAddress(request.ip));
    if (credentials.kind === 'none') {
      // Behind a gateway (off) the gateway decides; on loopback, local processes compile and read.
      const admin = anonymousAllowed && (options.mode === 'off' || options.loopbackAdmin === true);
      request.principal = { tenant: options.mode === 'off' ? 'anonymous' : 'local', admin, anonymous: true };
      const what = `${request.method} ${request.url.split('?')[0]} from ${request.ip}`;
      if (!anonymousAllowed) return deny('missing', new LbcError('LBC_ERR_AUTH_REQUIRED', what));
      if (access === 'admin' && !admin) {
        return deny('missing', new LbcError('LBC_ERR_AUTH_REQUIRED', `${what} needs an admin token: loopback callers compile and read, they do not administer (unless the service runs with LBC_LOOPBACK_ADMIN=1)`));
      }
      return;
    }
    if (credentials.kind === 'malformed') {
      return deny('invalid', new LbcError('LBC_ERR_AUTH_INVALID', credentials.reason));
    }
    const found = await options.verify(credentials.token);
    if (!found) return deny('invalid', new LbcError('LBC_ERR_AUTH_INVALID', 'unknown or revoked token'));
    request.principal = { tenant: found.tenant, admin: found.admin, anonymous: false, tokenId: found.tokenId };
    // An admin (a gateway's token) keeps the id it chose; everyone else keeps it behind their tag.
    const adopted = found.admin ? callerRequestId(request.raw) : null;
    if (adopted) request.id = adopted;
    request.log = adopted ? app.log.child({ reqId: adopted, tenant: found.tenant }) : request.log.child({ tenant: found.tenant });
    if ((access === 'admin' || access === 'register') && !found.admin) {
      return deny('forbidden', new LbcError('LBC_ERR_FORBIDDEN', `${request.method} ${request.url.split('?')[0]} (tenant ${found.tenant} has no admin token)`));
    }
  });
}

/** A browser asking for a page (as opposed to a program calling the API). */
function isPage(request: FastifyRequest): boolean {
  return request.url.startsWith('/dashboard');
}
