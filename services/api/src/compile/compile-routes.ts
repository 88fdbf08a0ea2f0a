import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { CompileResult, Limits } from '@lbc/contract';
import { stageMark } from '@lbc/core';
import { INLINE_OBJECT_MAX_BYTES } from '@lbc/contract/schemas';
import type { CompileService } from './compile-service.ts';
import { compileAccepted, compileQuery, compileRequest, compileResult, errorResponses } from '../schemas.ts';

/** JSON escaping can double a C source's size; the per-field byte limits are checked after parsing. */
export const compileBodyLimit = (limits: Limits) => 2 * (limits.maxSourceBytes + limits.maxIncludeBytes) + 64 * 1024;

/** An object's bytes by sha256 from this node's cache (verified), or null when it holds none. */
export type ObjectReader = (sha256: string) => Buffer | null;

/**
 * `?include=object`: the 200 answer carries the object itself (objectBase64), so a client's cache hit
 * is one round trip instead of the compile and then GET /v1/artifacts. Only an object this node holds
 * and within INLINE_OBJECT_MAX_BYTES: otherwise the answer is as without it and the client fetches the url.
 */
function withObject(result: CompileResult, readObject: ObjectReader): CompileResult {
  if (result.artifact.size > INLINE_OBJECT_MAX_BYTES) return result;
  const bytes = readObject(result.artifact.sha256);
  return bytes ? { ...result, objectBase64: bytes.toString('base64') } : result;
}

export function compileRoutes(app: FastifyInstance, service: CompileService, limits: Limits, readObject: ObjectReader): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post(
    '/v1/compile',
    {
      bodyLimit: compileBodyLimit(limits),
      schema: {
        summary: 'Compile a BPF program for a target kernel',
        body: compileRequest,
        querystring: compileQuery,
        response: { 200: compileResult, 202: compileAccepted, ...errorResponses(400, 404, 413, 422, 500, 503) },
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const answer = await service.compile(request.body, { requestId: request.id, tenant: principal?.tenant, bounded: principal ? !principal.anonymous : false });
      const body = answer.body;
      request.log.info('jobId' in body ? { jobId: body.jobId, cacheKey: body.cacheKey } : { cacheKey: body.cacheKey, cached: body.cached, sha256: body.artifact.sha256 }, answer.status === 200 ? 'compile answered' : 'compile queued');
      stageMark('api.answered');
      if (answer.status === 200 && request.query.include === 'object') return reply.status(200).send(withObject(answer.body, readObject));
      return reply.status(answer.status).send(answer.body);
    },
  );
}
