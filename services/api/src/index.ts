export { buildApp, type ApiDeps, type ApiApp } from './app.ts';
export { CompileService, artifactUrl, jobUrl, kernelBtfUrl } from './compile/compile-service.ts';
export type { SourceScanner } from './compile/validate-request.ts';
export { compileBodyLimit } from './compile/compile-routes.ts';
// For bench/catalog.ts, which measures the catalog routes without the rest of the app.
export { catalogRoutes } from './catalog/catalog-routes.ts';
export { installErrorHandlers } from './error-handler.ts';
export * from './ingest/ingest-service.ts';
export * from './ingest/ingest-settings.ts';
export * from './auth/token-store.ts';
export * from './auth/shared-tokens.ts';
export * from './verify/verdict-cache.ts';
export * from './verify/verify-producer.ts';
