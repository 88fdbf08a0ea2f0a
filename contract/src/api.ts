/**
 * Request and response shapes of the /v1 API, shared by the service, the CLI and the client. Each is
 * the type of its JSON schema in api-schemas.ts (the one definition: the API validates and
 * publishes the same schema); imported as types only, so the client bundles no schema library.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './api-schemas.ts';

export type Arch = Static<typeof S.ArchSchema>;
export type CompileTarget = Static<typeof S.CompileTargetSchema>;
export type CompileRequest = Static<typeof S.CompileRequestSchema>;
export type HeaderRequest = Static<typeof S.HeaderRequestSchema>;
/** 'core': compiled once for the arch against the newest header; 'kernel': against the target's own. */
export type HeaderMode = Static<typeof S.HeaderModeSchema>;
/** The kernel header an object was built against, and why that one. */
export type HeaderInfo = Static<typeof S.HeaderInfoSchema>;
export type ArtifactRef = Static<typeof S.ArtifactRefSchema>;
/** 200 answer of POST /v1/compile and result of a finished job. */
export type CompileResult = Static<typeof S.CompileResultSchema>;
/** Query of POST /v1/compile: `?include=object` asks for the object in a 200 answer (objectBase64). */
export type CompileQuery = Static<typeof S.CompileQuerySchema>;
/** 202 answer of POST /v1/compile. */
export type CompileAccepted = Static<typeof S.CompileAcceptedSchema>;
export type JobState = Static<typeof S.JobStateSchema>;
export type JobProgress = Static<typeof S.JobProgressSchema>;
export type JobStatus = Static<typeof S.JobStatusSchema>;
export type KernelInfo = Static<typeof S.KernelInfoSchema>;
export type BootImageRef = Static<typeof S.BootImageRefSchema>;
export type KernelUploadQuery = Static<typeof S.KernelUploadQuerySchema>;
export type Limits = Static<typeof S.LimitsSchema>;
