import type { FastifyInstance } from 'fastify';
import { LbcError } from '@lbc/contract';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, answerBlobRequest, type ArtifactCache, type FarmBlobs, type SharedArtifacts } from '@lbc/core';
import { errorResponses, sha256Params } from '../schemas.ts';

/**
 * An object this node has not stored may have been compiled through another API node: the record
 * of its compile from Redis, its bytes by hash from the blob store (verified), into this cache.
 */
async function fromOtherNodes({ cache, shared, blobs, guardRedis }: ArtifactSources, sha256: string): Promise<Buffer | null> {
  // Redis unreachable is a 503 to retry, not "no such artifact" (which a client or cache would believe).
  const found = shared?.enabled ? await guardRedis(shared.bySha(sha256), 'reading shared artifacts') : null;
  const bytes = found ? await blobs.get(sha256).catch(() => null) : null;
  if (!found || !bytes) return null;
  cache.store(found.cacheKey, bytes, found.sha256, found.warnings);
  return bytes;
}

export interface ArtifactSources {
  cache: ArtifactCache;
  blobs: FarmBlobs;
  shared?: SharedArtifacts;
  /** The farm secret peers' blob credentials are checked against (null before one exists). */
  farmSecret: () => Promise<string | null>;
  /** One Redis round trip within the service's bound; a failure is LBC_ERR_QUEUE_UNAVAILABLE. */
  guardRedis: <T>(work: Promise<T>, what: string) => Promise<T>;
}

/** Objects are named by their content: a URL's bytes never change, so caches may keep them forever. */
export function artifactRoutes(app: FastifyInstance, sources: ArtifactSources): void {
  const { cache, blobs, farmSecret } = sources;
  app.get<{ Params: { sha256: string } }>(
    '/v1/artifacts/:sha256',
    {
      schema: {
        summary: 'Download a compiled object (sha256 verified on every read)',
        params: sha256Params,
        response: { 200: { type: 'string', format: 'binary' }, 304: { type: 'null' }, ...errorResponses(400, 404, 503) },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const etag = `"${sha256}"`;
      // Only an object's bytes are forever: a 404 or 503 must not be kept by a cache in front.
      const immutable = () => reply.header('Cache-Control', 'public, max-age=31536000, immutable').header('ETag', etag);
      const ifNoneMatch = request.headers['if-none-match'];
      if (ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        return immutable().status(304).send();
      }
      const bytes = cache.readBySha(sha256) ?? (await fromOtherNodes(sources, sha256));
      if (!bytes) throw new LbcError('LBC_ERR_ARTIFACT_NOT_FOUND', sha256);
      return immutable().type('application/octet-stream').header('Content-Disposition', `attachment; filename="${sha256}.bpf.o"`).send(bytes);
    },
  );

  // This node's blobs for the other farm nodes (store/blob-access.ts): not part of the API description.
  app.get<{ Params: { sha256: string } }>(`${BLOB_PATH_PREFIX}:sha256`, { schema: { hide: true, params: sha256Params } }, async (request, reply) => {
    const token = request.headers[BLOB_TOKEN_HEADER];
    const answer = await answerBlobRequest(blobs.disk, await farmSecret().catch(() => null), request.params.sha256, typeof token === 'string' ? token : undefined);
    if (answer.status !== 200) return reply.status(answer.status).type('text/plain').send(answer.reason);
    void blobs.served(request.params.sha256).catch(() => {});
    return reply.type('application/octet-stream').header('content-length', answer.size).send(answer.body);
  });
}
