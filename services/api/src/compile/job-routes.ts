import type { FastifyInstance } from 'fastify';
import type { CompileService } from './compile-service.ts';
import { errorResponses, jobStatus } from '../schemas.ts';

export function jobRoutes(app: FastifyInstance, service: CompileService): void {
  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'State, progress and result of a compile job',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^compile-[0-9a-f]{64}$' } } },
        response: { 200: jobStatus, ...errorResponses(400, 404, 500, 503) },
      },
    },
    // A job is its submitters' (and admins'): another tenant learns nothing, not even that it exists.
    async (request) => service.jobStatus(request.params.id, request.principal?.admin ? null : (request.principal?.tenant ?? 'anonymous')),
  );
}
