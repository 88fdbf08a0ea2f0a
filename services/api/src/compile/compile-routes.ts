import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Limits } from '@lbc/contract';
import type { CompileService } from './compile-service.ts';
import { compileAccepted, compileRequest, compileResult, errorResponses } from '../schemas.ts';

/** JSON escaping can double a C source's size; the per-field byte limits are checked after parsing. */
export const compileBodyLimit = (limits: Limits) => 2 * (limits.maxSourceBytes + limits.maxIncludeBytes) + 64 * 1024;

export function compileRoutes(app: FastifyInstance, service: CompileService, limits: Limits): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/compile',
    {
      bodyLimit: compileBodyLimit(limits),
      schema: {
        summary: 'Compile a BPF program for a target kernel',
        body: compileRequest,
        response: { 200: compileResult, 202: compileAccepted, ...errorResponses(400, 404, 413, 422, 500, 503) },
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const answer = await service.compile(request.body, { requestId: request.id, tenant: principal?.tenant, bounded: principal ? !principal.anonymous : false });
      const body = answer.body;
      request.log.info('jobId' in body ? { jobId: body.jobId, cacheKey: body.cacheKey } : { cacheKey: body.cacheKey, cached: body.cached, sha256: body.artifact.sha256 }, answer.status === 200 ? 'compile answered' : 'compile queued');
      return reply.status(answer.status).send(answer.body);
    },
  );
}
