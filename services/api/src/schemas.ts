/**
 * JSON schemas of the /v1 API: fastify validates requests with them, serialises responses with
 * them, and @fastify/swagger publishes them at /docs.
 */
import { ARCHES, ERRORS, NAME_PATTERN, SHA256_PATTERN } from '@lbc/contract';

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const pattern = (re: RegExp) => ({ type: 'string', pattern: re.source }) as const;

export const errorBody = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'hint'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERRORS) },
        message: str,
        hint: str,
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

/** The same error body under every status a route may answer with an error. */
export const errorResponses = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorBody]));

export const kernelInfo = {
  type: 'object',
  properties: {
    btfSha256: str,
    release: str,
    arch: str,
    distro: str,
    source: str,
    btfSize: int,
    createdAt: str,
    bootable: { type: 'boolean' },
    bootImage: { type: 'object', properties: { sha256: str, size: int } },
    answersForRelease: { type: 'boolean' },
  },
} as const;

/** arch may be left out: the release on whichever arch the service has it for (KernelRegistry.resolve). */
export const compileTarget = {
  type: 'object',
  required: ['release'],
  additionalProperties: false,
  properties: {
    release: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._+~-]+$' },
    arch: { type: 'string', enum: [...ARCHES] },
    btfSha256: pattern(SHA256_PATTERN),
    distro: { type: 'string', maxLength: 64, pattern: '^[A-Za-z0-9._-]*$' },
  },
} as const;

/** The program: what POST /v1/compile and POST /v1/verify both take. */
const programProperties = {
  name: pattern(NAME_PATTERN),
  source: str,
  includes: { type: 'object', additionalProperties: str },
  cflags: { type: 'array', items: str },
} as const;

export const compileRequest = {
  type: 'object',
  required: ['name', 'source', 'target'],
  additionalProperties: false,
  properties: {
    ...programProperties,
    target: compileTarget,
    waitMs: { type: 'integer', minimum: 0 },
    minBtf: { type: 'boolean' },
    header: { type: 'string', enum: ['auto', 'core', 'kernel'] },
  },
} as const;

export const headerInfo = {
  type: 'object',
  properties: { btfSha256: str, release: str, arch: str, mode: { type: 'string', enum: ['core', 'kernel'] }, reason: str },
} as const;

export const artifactRef = {
  type: 'object',
  properties: { sha256: str, size: int, url: str },
} as const;

export const compileResult = {
  type: 'object',
  properties: {
    artifact: artifactRef,
    cacheKey: str,
    cached: { type: 'boolean' },
    warnings: str,
    kernel: kernelInfo,
    header: headerInfo,
    btfUrl: str,
    minBtf: artifactRef,
  },
} as const;

export const compileAccepted = {
  type: 'object',
  properties: { jobId: str, url: str, cacheKey: str, header: headerInfo },
} as const;

export const jobStatus = {
  type: 'object',
  properties: {
    id: str,
    state: str,
    progress: { type: 'object', properties: { stage: str, percent: { type: 'number' } } },
    result: compileResult,
    error: errorBody.properties.error,
  },
} as const;

export const limits = {
  type: 'object',
  properties: Object.fromEntries(
    ['maxSourceBytes', 'maxIncludes', 'maxIncludeBytes', 'maxCflags', 'maxBtfBytes', 'maxWaitMs', 'maxArtifactBytes'].map((k) => [k, int]),
  ),
} as const;

export const sha256Params = {
  type: 'object',
  required: ['sha256'],
  properties: { sha256: pattern(SHA256_PATTERN) },
} as const;

const stringMap = (value: object) => ({ type: 'object', maxProperties: 256, propertyNames: { maxLength: 256 }, additionalProperties: value }) as const;

/** POST /v1/verify: a compile request's program fields, the kernels, and the client's setup. */
export const verifyRequest = {
  type: 'object',
  required: ['name', 'source'],
  additionalProperties: false,
  properties: {
    ...programProperties,
    kernels: { type: 'array', maxItems: 32, items: { type: 'string', minLength: 4, maxLength: 128, pattern: '^[A-Za-z0-9._+~-]+$' } },
    allBootable: { type: 'boolean' },
    setup: {
      type: 'object',
      additionalProperties: false,
      properties: {
        globals: stringMap({ anyOf: [{ type: 'number' }, { type: 'string', maxLength: 4096 }, { type: 'boolean' }] }),
        autoload: stringMap({ type: 'boolean' }),
        maxEntries: stringMap({ type: 'integer', minimum: 1, maximum: 0xffffffff }),
        fallbacks: { type: 'boolean' },
        twins: stringMap({ type: 'string', maxLength: 256 }),
      },
    },
    workload: {
      type: 'object',
      required: ['command'],
      additionalProperties: false,
      properties: {
        command: { type: 'array', minItems: 1, maxItems: 32, items: { type: 'string', minLength: 1, maxLength: 4096 } },
        repeat: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
    waitMs: { type: 'integer', minimum: 0 },
  },
} as const;

const verdictError = errorBody.properties.error;

const programVerdict = {
  type: 'object',
  properties: {
    name: str, section: str, type: str, autoload: { type: 'boolean' },
    turnedOff: { type: 'object', properties: { instead: str, reason: str } },
    loaded: { type: 'boolean' }, verifiedInstructions: int, instructions: int, attached: { type: 'boolean' }, events: int, runs: int, error: str,
    verifierLog: { type: 'array', items: str },
  },
} as const;

const kernelVerdict = {
  type: 'object',
  properties: {
    kernel: { type: 'object', properties: { btfSha256: str, release: str, arch: str, distro: str } },
    status: { type: 'string', enum: ['passed', 'failed', 'error'] },
    objectSha256: str,
    cached: { type: 'boolean' },
    bootMs: int,
    programs: { type: 'array', items: programVerdict },
    maps: { type: 'array', items: { type: 'object', properties: { name: str, type: str, maxEntries: int, entries: int, records: int } } },
    error: verdictError,
  },
} as const;

export const verifyResult = {
  type: 'object',
  properties: { ok: { type: 'boolean' }, verdicts: { type: 'array', items: kernelVerdict }, labVersion: str },
} as const;

export const verifyAccepted = {
  type: 'object',
  properties: { jobId: str, url: str },
} as const;

export const verifyJobStatus = {
  type: 'object',
  properties: {
    id: str,
    state: str,
    progress: { type: 'object', properties: { stage: str, done: int, total: int, percent: { type: 'number' } } },
    result: verifyResult,
    error: verdictError,
  },
} as const;
