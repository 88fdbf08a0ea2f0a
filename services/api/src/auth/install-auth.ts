/**
 * Authentication and the per-tenant rate limit, installed on the app before any route so every
 * route (and the dashboard) passes through them. Token routes are registered with the others.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { LbcConfig } from '@lbc/core';
import type { ApiMetrics } from '../metrics.ts';
import { installAuthentication } from './authenticate.ts';
import { registerTenantRateLimit } from './tenant-rate-limit.ts';
import type { TokenVerifier } from './token-verifier.ts';

export interface AuthDeps {
  config: LbcConfig;
  tokens: TokenVerifier;
  /** Shared rate-limit counters. */
  redis?: Redis;
  metrics: ApiMetrics;
}

export function installAuth(app: FastifyInstance, deps: AuthDeps): void {
  installAuthentication(app, { mode: deps.config.authMode, loopbackAdmin: deps.config.loopbackAdmin, access: { metrics: deps.config.metricsAccess }, verify: (token) => deps.tokens.verify(token), onDenied: (reason) => deps.metrics.authDenied.inc({ reason }) });
  registerTenantRateLimit(app, {
    perMinute: deps.config.rateLimitPerMinute,
    redis: deps.redis,
    onLimited: () => deps.metrics.authDenied.inc({ reason: 'rate-limited' }),
  });
}
