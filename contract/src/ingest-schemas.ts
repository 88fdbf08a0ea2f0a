/** POST /v1/kernels/ingest and GET /v1/kernels/ingest/:id as JSON schemas (ingest.ts derives the types). */
import { Type } from '@sinclair/typebox';
import { CompileTargetSchema, JobStateSchema, KernelInfoSchema } from './api-schemas.ts';
import { ErrorDetailSchema } from './error-schema.ts';
import { StringEnum } from './schema-kit.ts';

export const INGEST_STAGES = ['queued', 'fetching', 'detecting', 'metadata', 'unpacking', 'converting', 'encoding', 'registering', 'done'] as const;

/** Query of POST /v1/kernels/ingest: the file's name (checked against its metadata) and hints for files without metadata. */
export const IngestQuerySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^/\\\\]+$', description: 'the file name (checked against the package metadata)' }),
    release: Type.Optional(CompileTargetSchema.properties.release),
    arch: CompileTargetSchema.properties.arch,
    distro: CompileTargetSchema.properties.distro,
    /** How long to wait for the ingestion before answering 202: milliseconds as digits (query strings are not coerced). */
    waitMs: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  },
  { additionalProperties: false },
);

export const IngestProgressSchema = Type.Object({ stage: StringEnum(INGEST_STAGES), percent: Type.Number() });

export const IngestStatusSchema = Type.Object({
  /** ingest-<package sha256> */
  id: Type.String(),
  packageSha256: Type.String(),
  state: JobStateSchema,
  progress: IngestProgressSchema,
  /** The registered kernel, once done. */
  kernel: Type.Optional(KernelInfoSchema),
  /** The package had been ingested before: nothing was done. */
  duplicate: Type.Optional(Type.Boolean()),
  /** How the BTF was obtained: section (.BTF of an ELF vmlinux), image (the blob inside a non-ELF kernel image), dwarf (pahole), raw. */
  btfSource: Type.Optional(Type.String()),
  error: Type.Optional(ErrorDetailSchema),
});
