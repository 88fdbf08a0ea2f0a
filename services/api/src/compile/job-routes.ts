import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CompileService } from './compile-service.ts';
import { errorResponses, jobIdParams, jobStatus } from '../schemas.ts';

const COMPILE_JOB_ID = /^compile-[0-9a-f]{64}$/;

export function jobRoutes(app: FastifyInstance, service: CompileService): void {
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'State, progress and result of a compile job',
        params: jobIdParams(COMPILE_JOB_ID),
        response: { 200: jobStatus, ...errorResponses(400, 404, 500, 503) },
      },
    },
    // A job is its submitters' (and admins'): another tenant learns nothing, not even that it exists.
    async (request) => service.jobStatus(request.params.id, request.principal?.admin ? null : (request.principal?.tenant ?? 'anonymous')),
  );
}
