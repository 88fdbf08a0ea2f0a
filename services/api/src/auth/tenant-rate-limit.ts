/**
 * Per-tenant request rate limit (@fastify/rate-limit keyed by tenant, counted in Redis so every API
 * node shares one budget per tenant). Anonymous clients (loopback in loopback mode, everyone with
 * auth off) and public routes are not limited. A Redis outage lets requests through: the routes
 * that need Redis answer their own clear 503.
 */
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import { LbcError } from '@lbc/contract';
import { redisKey } from '@lbc/core';

export interface TenantRateLimitOptions {
  perMinute: number;
  /** Shared counters; absent ⇒ per-process memory (tests, single node). */
  redis?: Redis;
  onLimited?: (tenant: string) => void;
}

/** Call before the routes it limits are registered (it hooks into their registration). */
export function registerTenantRateLimit(app: FastifyInstance, options: TenantRateLimitOptions): void {
  if (options.perMinute <= 0) return;
  void app.register(rateLimit, {
    global: true,
    max: options.perMinute,
    timeWindow: 60_000,
    hook: 'onRequest',
    nameSpace: redisKey.rateLimit(''),
    ...(options.redis ? { redis: options.redis } : {}),
    skipOnError: true,
    keyGenerator: (request) => request.principal?.tenant ?? request.ip,
    allowList: (request) => !request.principal || request.principal.anonymous || request.access === 'public',
    errorResponseBuilder: (request, context) => {
      const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
      options.onLimited?.(request.principal.tenant);
      return new LbcError('LBC_ERR_RATE_LIMITED', `tenant ${request.principal.tenant}: more than ${context.max} requests per minute`, {
        tenant: request.principal.tenant,
        limit: context.max,
        retryAfterSeconds,
      });
    },
  });
}
