import type { FastifyInstance } from 'fastify';
import type { Limits } from '@lbc/contract';
import { limits as limitsSchema } from '../schemas.ts';

export function limitRoutes(app: FastifyInstance, limits: Limits): void {
  app.get('/v1/limits', { schema: { summary: 'Size and time limits of this service', response: { 200: limitsSchema } } }, async () => limits);
}
