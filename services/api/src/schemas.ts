/**
 * Which of the contract's JSON schemas (@lbc/contract/schemas, the one definition of each /v1
 * shape) each route takes and answers with: fastify validates requests with them, serialises
 * responses with them, and @fastify/swagger publishes them at /docs. Routes use them through
 * fastify's TypeBox type provider, so a handler's request and reply are typed from the schema.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import {
  CompileAcceptedSchema,
  CompileQuerySchema,
  CompileRequestSchema,
  CompileResultSchema,
  ErrorBodySchema,
  FuncPrototypeSchema,
  FuncSearchResultSchema,
  ErrorDetailSchema,
  IngestQuerySchema,
  IngestStatusSchema,
  JobStatusSchema,
  KernelInfoSchema,
  KernelListSchema,
  KernelQuerySchema,
  KernelUploadQuerySchema,
  LimitsSchema,
  Matching,
  StructLayoutSchema,
  TypeLookupSchema,
  VerifyAcceptedSchema,
  VerifyJobStatusSchema,
  VerifyRequestSchema,
  VerifyResultSchema,
} from '@lbc/contract/schemas';
import { SHA256_PATTERN } from '@lbc/contract';

/**
 * A response schema as fastify is given it: the contract's, less its `required` lists. Responses
 * are serialised by fast-json-stringify, which answers 500 when a required field is missing; these
 * answers were published without `required` and go out as they always have (an error, wherever it
 * is nested, always had its own). The handler's reply is still typed from the full schema.
 */
export function answer<T extends TSchema>(schema: T): T {
  return withoutRequired(schema) as T;
}

/** The error detail, also where Type.Optional made a copy of it (sharing its properties). */
const isErrorDetail = (node: object) => (node as { properties?: unknown }).properties === ErrorDetailSchema.properties;

function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired);
  if (node === null || typeof node !== 'object' || isErrorDetail(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'required') out[key] = withoutRequired(value);
  return out;
}

/** Every error answer, code, message and hint required (as the error handler always sends). */
export const errorBody = ErrorBodySchema;

/** The same error body under every status a route may answer with an error. */
export const errorResponses = <const S extends readonly number[]>(...statuses: S) =>
  Object.fromEntries(statuses.map((s) => [s, errorBody])) as { [K in S[number]]: typeof errorBody };

export const kernelInfo = answer(KernelInfoSchema);
export const kernelQuery = KernelQuerySchema;
export const kernelList = answer(KernelListSchema);
export const kernelUploadQuery = KernelUploadQuerySchema;
export const compileRequest = CompileRequestSchema;
export const compileQuery = CompileQuerySchema;
export const compileResult = answer(CompileResultSchema);
export const compileAccepted = answer(CompileAcceptedSchema);
export const jobStatus = answer(JobStatusSchema);
export const limits = answer(LimitsSchema);
export const verifyRequest = VerifyRequestSchema;
export const verifyResult = answer(VerifyResultSchema);
export const verifyAccepted = answer(VerifyAcceptedSchema);
export const verifyJobStatus = answer(VerifyJobStatusSchema);

export const ingestQuery = IngestQuerySchema;
/** Its top-level fields were always listed as required (they are, in every state). */
export const ingestStatus = { ...answer(IngestStatusSchema), required: IngestStatusSchema.required };

export const structLayout = answer(StructLayoutSchema);
export const funcPrototype = answer(FuncPrototypeSchema);
export const funcSearchResult = answer(FuncSearchResultSchema);
export const typeLookup = answer(TypeLookupSchema);

export const sha256Params = Type.Object({ sha256: Matching(SHA256_PATTERN) });

/** A job id path parameter: `<queue>-<64 hex>`. */
export const jobIdParams = (pattern: RegExp) => Type.Object({ id: Matching(pattern) });
