import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectTarget, normalizeArch, parseOsReleaseId, wireTarget, KERNEL_BTF_PATH } from '../src/target/index.ts';

describe('target detection', () => {
  it('identifies the running kernel like uname and sha256sum do', () => {
    const t = detectTarget();
    expect(t.release).toBe(execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim());
    expect(t.arch).toBe(normalizeArch(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim()));
    expect(t.distro).toBe(parseOsReleaseId(execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' })));
    expect(existsSync(KERNEL_BTF_PATH)).toBe(true);
    expect(t.btfSha256).toBe(execFileSync('sha256sum', [KERNEL_BTF_PATH], { encoding: 'utf8' }).split(' ')[0]);
    expect(wireTarget(t)).not.toHaveProperty('btfPath');
  });

  it('has no BTF hash on a kernel without BTF', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-target-'));
    try {
      const t = detectTarget({ btfPath: join(dir, 'missing'), osReleasePath: join(dir, 'os-release') });
      expect(t.btfSha256).toBeUndefined();
      expect(t.btfPath).toBeUndefined();
      writeFileSync(join(dir, 'os-release'), 'NAME="Fedora Linux"\nID="fedora"\n');
      expect(detectTarget({ btfPath: join(dir, 'missing'), osReleasePath: join(dir, 'os-release') }).distro).toBe('fedora');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps Node and uname architecture names to the API names', () => {
    expect(normalizeArch('x64')).toBe('x86_64');
    expect(normalizeArch('arm64')).toBe('aarch64');
    expect(normalizeArch('aarch64')).toBe('aarch64');
    expect(normalizeArch('mips')).toBeUndefined();
  });
});
