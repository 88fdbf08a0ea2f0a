export { buildApp, type ApiDeps, type ApiApp } from './app.ts';
export { CompileService, artifactUrl, jobUrl, kernelBtfUrl } from './compile/compile-service.ts';
export type { SourceScanner } from './compile/validate-request.ts';
export { compileBodyLimit } from './routes/compile.ts';
