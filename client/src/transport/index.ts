export { ServiceClient, type ServiceClientOptions, type CompileOptions } from './service-client.ts';
export { resolveServer, DEFAULT_SERVER } from './server-url.ts';
