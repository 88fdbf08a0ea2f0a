/**
 * POST /v1/kernels/ingest — a kernel package in (streamed to disk, or a server-side path), a
 * registered kernel out; GET /v1/kernels/ingest/:id — its progress. Admin only.
 * The package itself reaches workers by hash through the farm blob store (GET /internal/blobs/:sha256
 * from this node, or the S3 store), and so does the boot image a worker keeps from a kernel image
 * package, the other way (published by the worker, fetched by the API node as the kernel registers).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ARCHES, LbcError, type IngestQuery, type IngestStatus } from '@lbc/contract';
import { isLoopbackAddress, type IngestHints } from '@lbc/core';
import { type IngestService } from './ingest-service.ts';
import { type IngestSettings } from './ingest-settings.ts';
import { errorResponses, ingestQuery, ingestStatus, sha256Params } from '../schemas.ts';

const PACKAGE_TYPES = ['application/octet-stream', 'application/x-rpm', 'application/vnd.debian.binary-package', 'application/x-xz'];

/**
 * Who may ingest. The authentication hook (auth/) already refuses non-admin tokens; this is the
 * ingestion's own switch on top: LBC_INGEST_FROM=off disables it, and an API without that hook
 * still only takes packages from loopback unless LBC_INGEST_FROM=any.
 */
export function assertMayIngest(request: FastifyRequest, settings: IngestSettings): void {
  if (settings.from === 'off') throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', 'ingestion is disabled on this service (LBC_INGEST_FROM=off)');
  const principal = (request as { principal?: { admin: boolean; anonymous: boolean } }).principal;
  if (principal && !principal.admin) throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', 'an admin token is required');
  const viaToken = principal && !principal.anonymous;
  if (settings.from === 'loopback' && !viaToken && !isLoopbackAddress(request.ip)) {
    throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', `anonymous ingestion only from the service host; ${request.ip} is not loopback`);
  }
}

/** Hints arrive in the query (uploads) or the JSON body (paths): the same checks for both. */
function hintsOf(q: { release?: unknown; arch?: unknown; distro?: unknown }): IngestHints {
  const bad = (field: string, why: string): never => {
    throw new LbcError('LBC_ERR_BAD_REQUEST', `${field}: ${why}`, { field });
  };
  const hints: IngestHints = {};
  if (q.release !== undefined) {
    if (typeof q.release !== 'string' || !/^[A-Za-z0-9._+~-]{1,128}$/.test(q.release)) bad('release', 'a kernel release such as 6.1.0-27-cloud-amd64');
    hints.release = q.release as string;
  }
  if (q.arch !== undefined) {
    if (!(ARCHES as readonly unknown[]).includes(q.arch)) bad('arch', `one of ${ARCHES.join(', ')}`);
    hints.arch = q.arch as IngestHints['arch'];
  }
  if (q.distro !== undefined && q.distro !== '') {
    if (typeof q.distro !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(q.distro)) bad('distro', 'an /etc/os-release ID such as debian or centos');
    hints.distro = q.distro as string;
  }
  return hints;
}


function answer(reply: { status(code: number): { send(body: unknown): unknown } }, status: IngestStatus) {
  if (status.state === 'failed' && status.error) {
    const err = new LbcError(status.error.code, undefined, { ...status.error.details, id: status.id, packageSha256: status.packageSha256 });
    err.message = status.error.message;
    throw err;
  }
  if (status.state === 'completed') return reply.status(status.duplicate ? 200 : 201).send(status);
  return reply.status(202).send(status);
}

export function ingestRoutes(app: FastifyInstance, ingest: IngestService | undefined): void {
  const service = (): IngestService => {
    if (!ingest) throw new LbcError('LBC_ERR_INGEST_FORBIDDEN', 'ingestion is not enabled in this API process');
    return ingest;
  };

  app.register(async (scope) => {
    // The package body is a stream handed to the spool as is: never buffered, never parsed here.
    scope.addContentTypeParser(PACKAGE_TYPES, (_request, payload, done) => done(null, payload));
    scope.post<{ Querystring: Omit<IngestQuery, 'waitMs'> & { waitMs?: string }; Body: unknown }>(
      '/v1/kernels/ingest',
      {
        schema: {
          summary: 'Ingest a kernel package (RPM, DEB/ddeb, BTFHub .btf.tar.xz, raw BTF): upload it as application/octet-stream with ?name=, or send {"path"} for a file on the service host',
          // name is required of uploads only (a JSON body names a path): checked by the handler.
          querystring: { ...ingestQuery, required: [] },
          response: { 200: ingestStatus, 201: ingestStatus, 202: ingestStatus, ...errorResponses(400, 403, 413, 422, 503) },
        },
      },
      async (request, reply) => {
        const svc = service();
        assertMayIngest(request, svc.settings);
        const body = request.body as unknown;
        if (body && typeof body === 'object' && typeof (body as Readable).pipe === 'function') {
          const q = request.query;
          if (!q.name) throw new LbcError('LBC_ERR_BAD_REQUEST', 'an upload needs ?name=<file name of the package>', { field: 'name' });
          const waitMs = Math.min(Number(q.waitMs ?? 0), 600_000);
          return answer(reply, await svc.submit({ kind: 'upload', body: body as Readable, fileName: q.name }, hintsOf(q), waitMs));
        }
        const b = (body ?? {}) as { path?: unknown; waitMs?: unknown; release?: unknown; arch?: unknown; distro?: unknown };
        if (typeof b.path !== 'string' || b.path.length === 0 || b.path.length > 4096) {
          throw new LbcError('LBC_ERR_BAD_REQUEST', 'send the package as application/octet-stream with ?name=, or JSON {"path": "<file under LBC_INGEST_PATH_ROOT>"}', { field: 'path' });
        }
        const waitMs = typeof b.waitMs === 'number' && Number.isInteger(b.waitMs) ? Math.min(Math.max(b.waitMs, 0), 600_000) : 0;
        return answer(reply, await svc.submit({ kind: 'path', path: b.path }, hintsOf(b), waitMs));
      },
    );
  });

  app.get<{ Params: { id: string } }>(
    '/v1/kernels/ingest/:id',
    {
      schema: {
        summary: 'State and progress of a kernel package ingestion; the kernel once registered',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^ingest-[0-9a-f]{64}$' } } },
        response: { 200: ingestStatus, ...errorResponses(400, 403, 404, 503) },
      },
    },
    async (request) => {
      const svc = service();
      assertMayIngest(request, svc.settings);
      return svc.status(request.params.id);
    },
  );
}
