/**
 * POST /v1/verify — will this program load and attach on those kernels (booted in the lab)? 200
 * with a verdict per kernel when done within waitMs (at once when every verdict is cached), else 202
 * with the job. GET /v1/verify/:id — its state, progress (kernels done of total) and verdicts, for
 * the tenants whose requests made the job and admins only, as compile jobs.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Limits } from '@lbc/contract';
import { verifyJobIdPattern } from '@lbc/core';
import type { VerifyService } from './verify-service.ts';
import { compileBodyLimit } from '../compile/compile-routes.ts';
import { errorResponses, jobIdParams, verifyAccepted, verifyJobStatus, verifyRequest, verifyResult } from '../schemas.ts';

export function verifyRoutes(fastify: FastifyInstance, service: VerifyService, limits: Limits): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/v1/verify',
    {
      bodyLimit: compileBodyLimit(limits) + 64 * 1024,
      schema: {
        summary: 'Compile a BPF program for each kernel, boot the kernels and load and attach it there',
        body: verifyRequest,
        response: { 200: verifyResult, 202: verifyAccepted, ...errorResponses(400, 404, 413, 422, 429, 500, 503) },
      },
    },
    async (request, reply) => {
      const { principal } = request;
      const answer = await service.verify(request.body, {
        requestId: request.id,
        tenant: principal?.tenant,
        bounded: principal ? !principal.anonymous : false,
      });
      request.log.info('jobId' in answer.body ? { jobId: answer.body.jobId } : { ok: answer.body.ok, kernels: answer.body.verdicts.length }, answer.status === 200 ? 'verify answered' : 'verify queued');
      return reply.status(answer.status).send(answer.body);
    },
  );

  app.get(
    '/v1/verify/:id',
    {
      schema: {
        summary: 'State, progress and verdicts of a verify job',
        params: jobIdParams(verifyJobIdPattern),
        response: { 200: verifyJobStatus, ...errorResponses(400, 404, 500, 503) },
      },
    },
    // A job is its submitters' (and admins'): another tenant learns nothing, not even that it exists.
    async (request) => service.jobStatus(request.params.id, request.principal?.admin ? null : (request.principal?.tenant ?? 'anonymous')),
  );
}
