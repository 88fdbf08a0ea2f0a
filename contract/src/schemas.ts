/**
 * The /v1 API's JSON schemas (TypeBox), the `@lbc/contract/schemas` entry: for the API, which
 * validates and publishes them. Kept out of the package's main entry, which the client bundles: the
 * client needs only their types (api.ts, verify.ts), not the schema library.
 */
export * from './schema-kit.ts';
export * from './error-schema.ts';
export * from './api-schemas.ts';
export * from './verify-schemas.ts';
export * from './ingest-schemas.ts';
export * from './catalog-schemas.ts';
