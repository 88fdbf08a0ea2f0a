/**
 * The kernel catalog: struct layouts, function prototypes and types of a registered kernel, read
 * from its BTF. `:id` is a BTF sha256, a unique prefix of one, or a release. The first query of a
 * kernel indexes it (seconds, in a worker thread); later ones answer from its catalog file.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LbcError, isLbcError, type FuncSearchQuery } from '@lbc/contract';
import { FUNC_SEARCH_MAX, type KernelCatalog } from '@lbc/core';
import { errorResponses, funcPrototype, funcSearchResult, structLayout, typeLookup } from '../schemas.ts';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;

const kernelId = { type: 'string', minLength: 4, maxLength: 128, pattern: '^[A-Za-z0-9._+~-]+$' } as const;
const cName = { type: 'string', minLength: 1, maxLength: 256, pattern: '^((struct|union|enum) +)?[A-Za-z_][A-Za-z0-9_]*$' } as const;
/** Query strings arrive as text and the API's ajv does not coerce: counts are digit strings. */
const count = (max: number) => ({ type: 'string', pattern: `^[0-9]{1,${String(max).length}}$` }) as const;
const countOf = (text: string | undefined, min: number, max: number, field: string): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (n < min || n > max) throw new LbcError('LBC_ERR_BAD_REQUEST', `querystring/${field} must be between ${min} and ${max}`, { field: `querystring/${field}` });
  return n;
};

const idAndName = { type: 'object', required: ['id', 'name'], properties: { id: kernelId, name: cName } } as const;

const catalogState = {
  type: 'object',
  properties: {
    kernel: str,
    state: { type: 'string', enum: ['ready', 'building', 'absent'] },
    fileBytes: int,
    stats: { type: 'object', properties: { types: int, structs: int, members: int, funcs: int, fileBytes: int, buildMs: int, builtAt: str } },
  },
} as const;

/** A catalog still being built answers 503 with Retry-After, so clients know to come back. */
async function answer<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isLbcError(err, 'LBC_ERR_CATALOG_BUILDING')) void reply.header('Retry-After', String(err.details?.retryAfterSeconds ?? 5));
    throw err;
  }
}

export function catalogRoutes(app: FastifyInstance, catalog: KernelCatalog): void {
  app.get<{ Params: { id: string; name: string }; Querystring: { depth?: string } }>(
    '/v1/kernels/:id/structs/:name',
    {
      schema: {
        summary: 'Layout of a struct or union: members with offsets and sizes, nested members flattened, holes (like pahole)',
        params: idAndName,
        querystring: { type: 'object', additionalProperties: false, properties: { depth: count(32) } },
        response: { 200: structLayout, ...errorResponses(400, 404, 500, 503) },
      },
    },
    async (request, reply) => {
      const maxDepth = countOf(request.query.depth, 0, 32, 'depth');
      return answer(reply, async () => (await catalog.reader(request.params.id)).struct(request.params.name, { maxDepth }));
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/v1/kernels/:id/funcs/:name',
    {
      schema: {
        summary: "A kernel function's prototype (argument names and types, return type)",
        params: idAndName,
        response: { 200: funcPrototype, ...errorResponses(400, 404, 500, 503) },
      },
    },
    async (request, reply) => answer(reply, async () => (await catalog.reader(request.params.id)).func(request.params.name)),
  );

  app.get<{ Params: { id: string }; Querystring: Omit<FuncSearchQuery, 'limit'> & { limit?: string } }>(
    '/v1/kernels/:id/funcs',
    {
      schema: {
        summary: 'Search functions: like= name pattern (% or * any run, ? one character), returns= and argType= C type spellings (% wildcard)',
        params: { type: 'object', required: ['id'], properties: { id: kernelId } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            like: { type: 'string', minLength: 1, maxLength: 256 },
            returns: { type: 'string', minLength: 1, maxLength: 256 },
            argType: { type: 'string', minLength: 1, maxLength: 256 },
            limit: count(FUNC_SEARCH_MAX),
          },
        },
        response: { 200: funcSearchResult, ...errorResponses(400, 404, 500, 503) },
      },
    },
    async (request, reply) => {
      const limit = countOf(request.query.limit, 1, FUNC_SEARCH_MAX, 'limit');
      return answer(reply, async () => (await catalog.reader(request.params.id)).searchFuncs({ ...request.query, limit }));
    },
  );

  app.get<{ Params: { id: string; name: string } }>(
    '/v1/kernels/:id/types/:name',
    {
      schema: {
        summary: 'Types of that name: typedef chains, enums with their values, structs and unions (or the enum holding an enumerator)',
        params: idAndName,
        response: { 200: typeLookup, ...errorResponses(400, 404, 500, 503) },
      },
    },
    async (request, reply) => answer(reply, async () => (await catalog.reader(request.params.id)).types(request.params.name)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/kernels/:id/catalog',
    {
      schema: {
        summary: "Whether a kernel's catalog is built, being built or absent (a query builds it)",
        params: { type: 'object', required: ['id'], properties: { id: kernelId } },
        response: { 200: catalogState, ...errorResponses(400, 404) },
      },
    },
    async (request) => {
      const kernel = catalog.resolveKernel(request.params.id);
      return { kernel: kernel.btfSha256, ...catalog.state(kernel.btfSha256) };
    },
  );
}
