/**
 * Where workers on other hosts fetch an uploaded package: the API node's advertised URL, else the
 * address the upload arrived on; and the farm credential that opens one package only.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { packageToken, packageTokenValid } from '@lbc/core';
import { loadIngestSettings } from '../src/ingest/ingest-settings.ts';
import { packageOrigin } from '../src/ingest/package-origin.ts';

describe('packageOrigin', () => {
  it('LBC_ADVERTISE_URL wins; it must be a bare http(s) base URL', () => {
    const settings = loadIngestSettings({ LBC_ADVERTISE_URL: 'http://api-2.farm.internal:8080/' });
    expect(settings.advertiseUrl).toBe('http://api-2.farm.internal:8080');
    expect(packageOrigin(settings.advertiseUrl, '10.0.0.9', 9999)).toBe('http://api-2.farm.internal:8080');
    expect(loadIngestSettings({}).advertiseUrl).toBeUndefined();
    for (const bad of ['api-2:8080', 'ftp://api-2', 'http://api-2:8080/lbc', 'http://api-2:8080/?x=1']) {
      expect(() => loadIngestSettings({ LBC_ADVERTISE_URL: bad }), bad).toThrow(/LBC_ADVERTISE_URL must be this node's base URL/);
    }
  });

  it('else the address the upload came in on (IPv4-mapped unwrapped, IPv6 bracketed)', () => {
    expect(packageOrigin(undefined, '10.1.2.3', 8080)).toBe('http://10.1.2.3:8080');
    expect(packageOrigin(undefined, '::ffff:10.1.2.3', 8080)).toBe('http://10.1.2.3:8080');
    expect(packageOrigin(undefined, 'fd00::5', 8080)).toBe('http://[fd00::5]:8080');
    expect(packageOrigin(undefined, undefined, undefined)).toBeUndefined();
    // An API serving HTTPS (LBC_TLS_CERT) is fetched from over HTTPS.
    expect(packageOrigin(undefined, '10.1.2.3', 8443, undefined, 'https')).toBe('https://10.1.2.3:8443');
  });

  it('an upload over loopback names an address other hosts can reach (or none)', () => {
    const external = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .filter((a) => !a.internal && a.family === 'IPv4')
      .map((a) => `http://${a.address}:8080`);
    const origin = packageOrigin(undefined, '127.0.0.1', 8080, '0.0.0.0');
    if (external.length > 0) expect(external).toContain(origin);
    else expect(origin === undefined || !/127\.0\.0\.1|\[::1\]/.test(origin)).toBe(true);
    // An API listening on loopback only is reached there (workers on this host).
    expect(packageOrigin(undefined, '127.0.0.1', 8080, '127.0.0.1')).toBe('http://127.0.0.1:8080');
  });
});

describe('package credential', () => {
  it('is valid for its package and secret only', () => {
    const sha = 'a'.repeat(64);
    const token = packageToken('secret-1', sha);
    expect(packageTokenValid('secret-1', sha, token)).toBe(true);
    expect(packageTokenValid('secret-2', sha, token)).toBe(false);
    expect(packageTokenValid('secret-1', 'b'.repeat(64), token)).toBe(false);
    expect(packageTokenValid('secret-1', sha, undefined)).toBe(false);
    expect(packageTokenValid('secret-1', sha, token.slice(1))).toBe(false);
  });
});
