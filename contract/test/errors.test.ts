import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, LbcError } from '../src/index.ts';
import { renderErrorsDoc } from '../../scripts/gen-errors-doc.ts';

describe('error catalogue', () => {
  it('is documented: docs/errors.md matches the catalogue', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorsDoc());
  });

  it('every code is LBC_ERR_* with a message and a hint', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^LBC_ERR_[A-Z0-9_]+$/);
      expect(spec.message.length).toBeGreaterThan(5);
      expect(spec.hint.length).toBeGreaterThan(5);
    }
  });

  it('round-trips through the API body', () => {
    const err = new LbcError('LBC_ERR_KERNEL_UNKNOWN', '6.1.0 x86_64', { suggestions: ['6.1.1'] });
    const back = LbcError.fromBody(JSON.parse(JSON.stringify(err.toBody())));
    expect(back).toMatchObject({ code: err.code, message: err.message, status: 404, details: { suggestions: ['6.1.1'] } });
    expect(back.format()).toMatch(/^LBC_ERR_KERNEL_UNKNOWN: .*\n  fix: /);
  });
});
