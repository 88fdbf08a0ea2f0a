#!/usr/bin/env node
// lbc-admin: operator commands, run from the TypeScript sources through tsx like the server.
const { register } = await import('tsx/esm/api');
register();
await import('../src/admin/main.ts');
