#!/usr/bin/env node
// The CLI is TypeScript run in place (like the rest of the repo): register tsx, then hand over.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
