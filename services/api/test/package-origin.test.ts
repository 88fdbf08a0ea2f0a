/**
 * Where workers on other hosts reach the API node that received a package (its boot image goes
 * back there): the API node's advertised URL, else the address the upload arrived on; and the farm
 * credentials that open one blob (a package, fetched by hash) or one boot image only.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { blobToken, bootImageToken, bootImageTokenValid, tokenEquals } from '@lbc/core';
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

  it('a boot-image credential opens that image only, and never a blob of the same hash', () => {
    const sha = 'a'.repeat(64);
    const token = bootImageToken('secret-1', sha);
    expect(bootImageTokenValid('secret-1', sha, token)).toBe(true);
    expect(bootImageTokenValid('secret-2', sha, token)).toBe(false);
    expect(bootImageTokenValid('secret-1', 'b'.repeat(64), token)).toBe(false);
    expect(bootImageTokenValid('secret-1', sha, undefined)).toBe(false);
    expect(tokenEquals(blobToken('secret-1', sha), token)).toBe(false);
  });
});
