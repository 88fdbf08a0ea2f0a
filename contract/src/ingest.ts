/**
 * Kernel package ingestion over the API: POST /v1/kernels/ingest and GET /v1/kernels/ingest/:id.
 * The shapes are the types of their JSON schemas in ingest-schemas.ts.
 */
import type { Static } from '@sinclair/typebox';
import type * as S from './ingest-schemas.ts';

export type IngestStage = Static<typeof S.IngestProgressSchema>['stage'];
export type IngestProgress = Static<typeof S.IngestProgressSchema>;
/** Query of POST /v1/kernels/ingest: the file's name (checked against its metadata) and hints for files without metadata. */
export type IngestQuery = Static<typeof S.IngestQuerySchema>;
export type IngestStatus = Static<typeof S.IngestStatusSchema>;
