import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonPath, explainLoadFailure } from '../src/native/addon-path.ts';

/**
 * Which addon the client loads (a build from source before the prebuilt one), and what a failed
 * load tells the user. The bare target (test/client-package.test.ts) shows a real missing libelf.
 */
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'lbc-addon-path-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('addonPath', () => {
  it("is the prebuilt addon for this platform in node-gyp-build's layout, unless native/build holds a build from source", () => {
    const prebuilt = join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'lbc_native.napi.glibc.node');
    expect(addonPath(dir)).toBe(prebuilt);
    mkdirSync(join(dir, 'native', 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'native', 'build', 'Release', 'lbc_native.node'), '');
    expect(addonPath(dir)).toBe(join(dir, 'native', 'build', 'Release', 'lbc_native.node'));
  });
});

describe('explainLoadFailure', () => {
  const addon = '/app/node_modules/lbc-client/prebuilds/linux-x64/lbc_native.napi.glibc.node';

  it('names the package that provides a missing library', () => {
    expect(explainLoadFailure(addon, 'libelf.so.1: cannot open shared object file: No such file or directory', true)).toMatch(/: install libelf1 \(Debian, Ubuntu\) or elfutils-libelf/);
    expect(explainLoadFailure(addon, 'libz.so.1: cannot open shared object file: No such file or directory', true)).toContain('install zlib1g');
  });

  it('says when the C library is too old, or not glibc, and how to build from source', () => {
    const old = explainLoadFailure(addon, "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.28' not found (required by lbc_native.napi.glibc.node)", true);
    expect(old).toContain('older than the prebuilt addon needs (GLIBC_2.28)');
    expect(old).toContain('npx node-gyp rebuild');
    expect(explainLoadFailure(addon, 'Error relocating lbc_native.napi.glibc.node: __memcpy_chk: symbol not found', true)).toContain('needs glibc');
  });

  it('tells a missing prebuilt addon on a supported platform from an unsupported platform', () => {
    const missing = explainLoadFailure(addon, 'ENOENT', false);
    if (['linux-x64', 'linux-arm64'].includes(`${process.platform}-${process.arch}`)) expect(missing).toContain('reinstall lbc-client');
    else expect(missing).toContain('no prebuilt addon for');
  });
});
