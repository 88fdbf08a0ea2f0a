/**
 * Every error leaves the API as an ErrorBody with a catalogue code: LbcErrors as they are,
 * fastify's validation and body-size errors mapped to LBC_ERR_BAD_REQUEST / LBC_ERR_BODY_TOO_LARGE,
 * anything else an LBC_ERR_INTERNAL that names the request id (the details stay in the log).
 * Every body leaves without host paths (a worker's failure can quote one): the last line.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LbcError } from '@lbc/contract';
import { hostPathScrub, scrubStrings, type HostPathScrub } from '@lbc/core';

function toLbcError(err: FastifyError, requestId: string, bodyLimit: number): LbcError {
  if (err instanceof LbcError) return err;
  if (err.validation) {
    const first = err.validation[0];
    const missing = first?.keyword === 'required' ? `/${String((first.params as { missingProperty?: string }).missingProperty)}` : '';
    const field = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}${missing}`;
    return new LbcError('LBC_ERR_BAD_REQUEST', `${field} ${first?.message ?? 'is invalid'}`, { field });
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
    return new LbcError('LBC_ERR_BODY_TOO_LARGE', `more than ${bodyLimit} bytes`, { limit: bodyLimit });
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
    return new LbcError('LBC_ERR_BAD_REQUEST', err.message);
  }
  return new LbcError('LBC_ERR_INTERNAL', `request ${requestId}`, { requestId });
}

/**
 * Errors fastify's router raises before a route (and so the error handler) is chosen: a path that
 * is not valid percent-encoding (FST_ERR_BAD_URL), a path parameter over maxParamLength
 * (FST_ERR_MAX_PARAM_LENGTH). fastify's own answer is not an ErrorBody and carries no catalogue
 * code; this one is. Given to fastify as its `frameworkErrors` option.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = request.url.split('?')[0]!.slice(0, 200);
  const lbc =
    err.code === 'FST_ERR_BAD_URL'
      ? new LbcError('LBC_ERR_BAD_REQUEST', `the path ${JSON.stringify(path)} is not valid percent-encoding`, { field: 'url' })
      : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new LbcError('LBC_ERR_BAD_REQUEST', `a path parameter of ${JSON.stringify(path)} is too long`, { field: 'url' })
        : new LbcError('LBC_ERR_INTERNAL', `request ${request.id}`, { requestId: request.id });
  if (lbc.status >= 500) request.log.error({ err }, lbc.message);
  void reply.status(lbc.status).type('application/json').send(lbc.toBody());
}

export function installErrorHandlers(app: FastifyInstance, defaultBodyLimit: number, scrub: HostPathScrub = hostPathScrub({})): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const limit = request.routeOptions.bodyLimit ?? defaultBodyLimit;
    const lbc = toLbcError(err, request.id, limit);
    if (lbc.status >= 500) request.log.error({ err }, lbc.message);
    else request.log.info({ code: lbc.code }, lbc.message);
    // Quotas (429) and the like say when to come back.
    const retryAfter = lbc.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('Retry-After', String(retryAfter));
    return reply.status(lbc.status).type('application/json').send(scrubStrings(lbc.toBody(), scrub));
  });
  app.setNotFoundHandler((request, reply) => {
    const err = new LbcError('LBC_ERR_NOT_FOUND', `${request.method} ${request.url.split('?')[0]}`);
    return reply.status(404).send(err.toBody());
  });
}
