// Writes docs/errors.md from the one error catalogue (contract/src/errors.ts).
import { writeFileSync } from 'node:fs';
import { ERRORS } from '@lbc/contract';

export function renderErrorsDoc(): string {
  const rows = Object.entries(ERRORS).map(
    ([code, spec]) => `| \`${code}\` | ${spec.status || 'client'} | ${spec.message} | ${spec.hint} |`,
  );
  return [
    '# lbc error codes',
    '',
    'Every error lbc prints — from the API, a worker, the CLI or the client — carries one of these codes.',
    'API errors arrive as `{"error": {"code", "message", "hint", "details"}}` with the HTTP status below;',
    '"client" marks errors raised on the client side only. Generated from `contract/src/errors.ts`',
    '(`node --import tsx scripts/gen-errors-doc.ts`).',
    '',
    '| code | HTTP | what went wrong | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
}
