import type { FastifyInstance } from 'fastify';
import { LbcError } from '@lbc/contract';
import type { ArtifactCache, SharedArtifacts } from '@lbc/core';
import { errorResponses, sha256Params } from '../schemas.ts';

/** Objects are named by their content: a URL's bytes never change, so caches may keep them forever. */
/** An object this node has not stored may have been compiled through another API node: fill from Redis. */
async function fromOtherNodes(cache: ArtifactCache, shared: SharedArtifacts | undefined, sha256: string): Promise<Buffer | null> {
  const found = shared?.enabled ? await shared.bySha(sha256).catch(() => null) : null;
  if (!found) return null;
  cache.store(found.cacheKey, found.bytes, found.sha256, found.warnings);
  return found.bytes;
}

export function artifactRoutes(app: FastifyInstance, cache: ArtifactCache, shared?: SharedArtifacts): void {
  app.get<{ Params: { sha256: string } }>(
    '/v1/artifacts/:sha256',
    {
      schema: {
        summary: 'Download a compiled object (sha256 verified on every read)',
        params: sha256Params,
        response: { 200: { type: 'string', format: 'binary' }, 304: { type: 'null' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const etag = `"${sha256}"`;
      reply.header('Cache-Control', 'public, max-age=31536000, immutable').header('ETag', etag);
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        return reply.status(304).send();
      }
      const bytes = cache.readBySha(sha256) ?? (await fromOtherNodes(cache, shared, sha256));
      if (!bytes) throw new LbcError('LBC_ERR_ARTIFACT_NOT_FOUND', sha256);
      return reply.type('application/octet-stream').header('Content-Disposition', `attachment; filename="${sha256}.bpf.o"`).send(bytes);
    },
  );
}
