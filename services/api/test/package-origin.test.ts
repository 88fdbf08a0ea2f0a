/**
 * Where other farm nodes reach an API node (LBC_ADVERTISE_URL, checked as it is read), and the
 * farm credential that opens one blob (a package, a boot image, fetched by hash) only.
 */
import { describe, expect, it } from 'vitest';
import { blobToken, tokenEquals } from '@lbc/core';
import { loadIngestSettings } from '../src/ingest/ingest-settings.ts';

describe('LBC_ADVERTISE_URL', () => {
  it('must be a bare http(s) base URL', () => {
    const settings = loadIngestSettings({ LBC_ADVERTISE_URL: 'http://api-2.farm.internal:8080/' });
    expect(settings.advertiseUrl).toBe('http://api-2.farm.internal:8080');
    expect(loadIngestSettings({}).advertiseUrl).toBeUndefined();
    for (const bad of ['api-2:8080', 'ftp://api-2', 'http://api-2:8080/lbc', 'http://api-2:8080/?x=1']) {
      expect(() => loadIngestSettings({ LBC_ADVERTISE_URL: bad }), bad).toThrow(/LBC_ADVERTISE_URL must be this node's base URL/);
    }
  });
});

describe('farm credentials', () => {
  it('a blob credential (a package fetched by hash) is valid for its hash and secret only', () => {
    const sha = 'a'.repeat(64);
    const token = blobToken('secret-1', sha);
    const valid = (secret: string, hash: string, given: string | undefined) => tokenEquals(blobToken(secret, hash), given);
    expect(valid('secret-1', sha, token)).toBe(true);
    expect(valid('secret-2', sha, token)).toBe(false);
    expect(valid('secret-1', 'b'.repeat(64), token)).toBe(false);
    expect(valid('secret-1', sha, undefined)).toBe(false);
    expect(valid('secret-1', sha, token.slice(1))).toBe(false);
  });
});
