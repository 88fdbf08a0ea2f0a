import type { FastifyInstance } from 'fastify';
import type { ApiMetrics } from '../metrics.ts';

export function metricsRoutes(app: FastifyInstance, metrics: ApiMetrics): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', hide: true } as object }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
