/**
 * The /v1 API's compile and kernel shapes as JSON schemas, the one definition of each: the API
 * validates requests and serialises responses with them, @fastify/swagger publishes them at /docs,
 * and api.ts derives the TypeScript types the client, the CLI and the services use.
 */
import { Type } from '@sinclair/typebox';
import { ARCHES, NAME_PATTERN, SHA256_PATTERN } from './limits.ts';
import { ErrorDetailSchema } from './error-schema.ts';
import { Dict, Matching, StringEnum } from './schema-kit.ts';

export const ArchSchema = StringEnum(ARCHES);

/** `uname -r` spellings. */
export const RELEASE_PATTERN = /^[A-Za-z0-9._+~-]+$/;
/** /etc/os-release IDs (may be empty). */
export const DISTRO_PATTERN = /^[A-Za-z0-9._-]*$/;

export const CompileTargetSchema = Type.Object(
  {
    /** `uname -r` of the target, e.g. "6.1.0-50-cloud-amd64". */
    release: Matching(RELEASE_PATTERN, { minLength: 1, maxLength: 128 }),
    /**
     * Absent: the release on whichever architecture the service has it for (a release known for
     * several is LBC_ERR_KERNEL_AMBIGUOUS, naming them).
     */
    arch: Type.Optional(ArchSchema),
    /** sha256 of the target's raw BTF (/sys/kernel/btf/vmlinux). Picks the kernel set exactly. */
    btfSha256: Type.Optional(Matching(SHA256_PATTERN)),
    /** ID from /etc/os-release, e.g. "debian". */
    distro: Type.Optional(Matching(DISTRO_PATTERN, { maxLength: 64 })),
  },
  { additionalProperties: false },
);

/** The program: what POST /v1/compile and POST /v1/verify both take. */
export const ProgramFields = {
  /** Program name; the main file is `${name}.bpf.c` in diagnostics. */
  name: Matching(NAME_PATTERN),
  source: Type.String(),
  /** Relative path → text, for the program's own `#include "x.h"`. */
  includes: Type.Optional(Dict(Type.String())),
  /** Allow-listed: -DNAME[=VALUE], -UNAME. */
  cflags: Type.Optional(Type.Array(Type.String())),
};

export const HEADER_REQUESTS = ['auto', 'core', 'kernel'] as const;
export const HeaderRequestSchema = StringEnum(HEADER_REQUESTS);

/** How long a request may wait for its answer before 202 (milliseconds). */
export const WaitMsSchema = Type.Integer({ minimum: 0 });

export const CompileRequestSchema = Type.Object(
  {
    ...ProgramFields,
    target: CompileTargetSchema,
    /** How long the request may wait for the compile before answering 202. */
    waitMs: Type.Optional(WaitMsSchema),
    /**
     * Also produce the object's minimized BTF (`bpftool gen min_core_btf`: only the types its CO-RE
     * relocations touch), for a target kernel without /sys/kernel/btf/vmlinux.
     */
    minBtf: Type.Optional(Type.Boolean()),
    /**
     * Which kernel header the program is compiled against (see HeaderMode). 'auto' (the default):
     * once per arch against the newest header when the source is CO-RE, else the target's own;
     * 'core': the newest header whatever the source does; 'kernel': the target's own header.
     */
    header: Type.Optional(HeaderRequestSchema),
  },
  { additionalProperties: false },
);

/**
 * 'core': compiled once for the arch, against the newest kernel header the service trusts; the
 * object's CO-RE relocations fit it to each kernel at load. 'kernel': compiled against the target
 * kernel's own header (one object per kernel).
 */
export const HeaderModeSchema = StringEnum(['core', 'kernel']);

/** The kernel header an object was built against, and why that one. */
export const HeaderInfoSchema = Type.Object({
  /** The BTF the vmlinux.h was dumped from (part of the cache key). */
  btfSha256: Type.String(),
  release: Type.String(),
  arch: ArchSchema,
  mode: HeaderModeSchema,
  /** Why the target's own header was used (mode 'kernel'), in words. */
  reason: Type.Optional(Type.String()),
});

export const ArtifactRefSchema = Type.Object({
  sha256: Type.String(),
  size: Type.Integer(),
  /** Relative URL: /v1/artifacts/<sha256>. */
  url: Type.String(),
});

export const BootImageRefSchema = Type.Object({ sha256: Type.String(), size: Type.Integer() });

export const KernelInfoSchema = Type.Object({
  btfSha256: Type.String(),
  release: Type.String(),
  arch: ArchSchema,
  distro: Type.String(),
  /** Where the kernel set came from: 'host', 'upload', 'package'. */
  source: Type.String(),
  btfSize: Type.Integer(),
  createdAt: Type.String(),
  /** The kernel set holds the image a VM boots (ingested from a kernel image package). */
  bootable: Type.Boolean(),
  /** That image (vmlinuz, arm64 Image), content-addressed. */
  bootImage: Type.Optional(BootImageRefSchema),
  /**
   * False for an upload by a non-admin under a release another kernel already held: it is reachable
   * by its btfSha256 only, never by the release name (host and package kernels, and admins, win).
   */
  answersForRelease: Type.Boolean(),
});

/** 200 answer of POST /v1/compile and result of a finished job. */
export const CompileResultSchema = Type.Object({
  artifact: ArtifactRefSchema,
  cacheKey: Type.String(),
  cached: Type.Boolean(),
  /** Compiler warnings, as clang prints them, with the user's file names. */
  warnings: Type.String(),
  /** The target kernel the request named (with mode 'core' the object serves every kernel of its arch). */
  kernel: KernelInfoSchema,
  /** The header the object was built against: the target's own, or the arch's newest (CO-RE). */
  header: HeaderInfoSchema,
  /** Set when the service supplies BTF the client should pass to libbpf as btf_custom_path. */
  btfUrl: Type.Optional(Type.String()),
  /** With `minBtf` in the request: the object's minimized BTF (a small fraction of btfUrl's), for btf_custom_path. */
  minBtf: Type.Optional(ArtifactRefSchema),
  /**
   * With `?include=object` on POST /v1/compile: the object's bytes, base64, in the 200 answer itself
   * (a cache hit is then one round trip). Left out when the object is over INLINE_OBJECT_MAX_BYTES or
   * not on the answering node: the client fetches artifact.url then. It hashes to artifact.sha256.
   */
  objectBase64: Type.Optional(Type.String({ contentEncoding: 'base64' })),
});

/** What POST /v1/compile may carry in its 200 answer besides the result: `object`, its bytes (objectBase64). */
export const COMPILE_INCLUDES = ['object'] as const;

/** Query of POST /v1/compile. Other parameters are ignored, as they always were. */
export const CompileQuerySchema = Type.Object({ include: Type.Optional(StringEnum(COMPILE_INCLUDES)) });

/** The largest object a compile answer carries inline (objectBase64); a larger one is fetched by its url. */
export const INLINE_OBJECT_MAX_BYTES = 1024 * 1024;

/** 202 answer of POST /v1/compile. */
export const CompileAcceptedSchema = Type.Object({
  jobId: Type.String(),
  url: Type.String(),
  cacheKey: Type.String(),
  /**
   * The header the job compiles against. A 'core' job that ends in LBC_ERR_COMPILE is asked for
   * again: the service then compiles against the target's own header (it remembers the failure).
   */
  header: Type.Optional(HeaderInfoSchema),
});

export const JobStateSchema = StringEnum(['waiting', 'active', 'completed', 'failed', 'delayed', 'unknown']);

export const JobProgressSchema = Type.Object({
  stage: StringEnum(['queued', 'kernel-set', 'compiling', 'storing', 'done']),
  percent: Type.Number(),
});

/** GET /v1/jobs/:id. */
export const JobStatusSchema = Type.Object({
  id: Type.String(),
  state: JobStateSchema,
  progress: JobProgressSchema,
  result: Type.Optional(CompileResultSchema),
  error: Type.Optional(ErrorDetailSchema),
});

/** Query of PUT /v1/kernels/:sha256 (the body is the raw BTF). */
export const KernelUploadQuerySchema = Type.Object(
  { release: CompileTargetSchema.properties.release, arch: ArchSchema, distro: CompileTargetSchema.properties.distro },
  { additionalProperties: false },
);

/** GET /v1/limits: the service's size and time limits. */
export const LimitsSchema = Type.Object({
  maxSourceBytes: Type.Integer(),
  maxIncludes: Type.Integer(),
  maxIncludeBytes: Type.Integer(),
  maxCflags: Type.Integer(),
  maxBtfBytes: Type.Integer(),
  maxWaitMs: Type.Integer(),
  maxArtifactBytes: Type.Integer(),
});

/** GET /v1/kernels?distro=&release=&arch= */
export const KernelQuerySchema = Type.Object(
  {
    distro: CompileTargetSchema.properties.distro,
    /** Exact release, or a pattern with `*` / `%` wildcards. */
    release: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._+~*%-]+$' })),
    arch: Type.Optional(ArchSchema),
  },
  { additionalProperties: false },
);

export const KernelListSchema = Type.Object({
  kernels: Type.Array(KernelInfoSchema),
  /** Only when a release was asked for and none matched: the closest known releases, nearest first. */
  nearest: Type.Optional(Type.Array(KernelInfoSchema)),
});
