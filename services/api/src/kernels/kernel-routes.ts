import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { LbcError, type Limits } from '@lbc/contract';
import { decompressUpload, queryKernels, type KernelRegistry } from '@lbc/core';
import { errorResponses, kernelInfo, kernelList, kernelQuery, kernelUploadQuery, sha256Params } from '../schemas.ts';

const BTF_TYPES = ['application/octet-stream', 'application/gzip'];

export function kernelRoutes(fastify: FastifyInstance, registry: KernelRegistry, limits: Limits): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/v1/kernels', {
    schema: {
      summary: 'Kernels the service can compile for, filtered by distro, release (* or % wildcards) and arch; nearest releases when none matches',
      querystring: kernelQuery,
      response: { 200: kernelList, ...errorResponses(400) },
    },
  }, async (request) => queryKernels(registry.list(), request.query));

  app.get(
    '/v1/kernels/:sha256/btf',
    {
      schema: {
        summary: "A kernel set's raw BTF (for libbpf's btf_custom_path on kernels without their own)",
        params: sha256Params,
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { sha256 } = request.params;
      const btf = registry.get(sha256) ? registry.readBtf(sha256) : null;
      if (!btf) throw new LbcError('LBC_ERR_KERNEL_UNKNOWN', `btfSha256 ${sha256}`, { suggestions: [] });
      return reply.header('Cache-Control', 'public, max-age=31536000, immutable').header('ETag', `"${sha256}"`).type('application/octet-stream').send(btf);
    },
  );

  app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // Raw BTF (optionally gzip) as the body; the parser is scoped to this route only.
    scope.addContentTypeParser(BTF_TYPES, { parseAs: 'buffer', bodyLimit: limits.maxBtfBytes }, (_req, body, done) => done(null, body));
    scope.put(
      '/v1/kernels/:sha256',
      {
        bodyLimit: limits.maxBtfBytes,
        schema: {
          summary: "Upload a kernel's raw BTF (/sys/kernel/btf/vmlinux, gzip accepted)",
          params: sha256Params,
          querystring: kernelUploadQuery,
          response: { 200: kernelInfo, 201: kernelInfo, ...errorResponses(400, 413, 503) },
        },
      },
      async (request, reply) => {
        const btf = await decompressUpload(request.body as Buffer, limits.maxBtfBytes);
        const { kernel, created } = await registry.register({
          btf,
          expectedSha256: request.params.sha256,
          release: request.query.release,
          arch: request.query.arch,
          distro: request.query.distro ?? '',
          source: 'upload',
          byAdmin: request.principal?.admin === true,
        });
        return reply.status(created ? 201 : 200).send(kernel);
      },
    );
  });
}
