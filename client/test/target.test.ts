import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectTarget, normalizeArch, parseOsReleaseId, wireTarget, KERNEL_BTF_PATH } from '../src/target/index.ts';
import { BOOT_ID_PATH, rememberedBtfSha256 } from '../src/target/btf-identity-cache.ts';

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

  it('remembers the running kernel BTF hash for this boot only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-target-'));
    try {
      const truth = execFileSync('sha256sum', [KERNEL_BTF_PATH], { encoding: 'utf8' }).split(' ')[0];
      let computed = 0;
      const count = (path: string) => {
        computed++;
        return execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
      };
      expect(rememberedBtfSha256(dir, KERNEL_BTF_PATH, count)).toBe(truth);
      expect(rememberedBtfSha256(dir, KERNEL_BTF_PATH, count)).toBe(truth);
      expect(computed).toBe(1);
      const file = join(dir, 'kernel-btf.json');
      const entry = JSON.parse(readFileSync(file, 'utf8'));
      expect(entry.bootId).toBe(readFileSync(BOOT_ID_PATH, 'utf8').trim());

      // Another boot's entry, a forged hash for another size, and a torn file are all recomputed.
      writeFileSync(file, JSON.stringify({ ...entry, bootId: 'another-boot', sha256: 'f'.repeat(64) }));
      expect(rememberedBtfSha256(dir, KERNEL_BTF_PATH, count)).toBe(truth);
      writeFileSync(file, JSON.stringify({ ...entry, size: entry.size + 1, sha256: 'f'.repeat(64) }));
      expect(rememberedBtfSha256(dir, KERNEL_BTF_PATH, count)).toBe(truth);
      writeFileSync(file, '{"bootId":');
      expect(rememberedBtfSha256(dir, KERNEL_BTF_PATH, count)).toBe(truth);
      expect(computed).toBe(4);

      // detectTarget takes it from there when told where to remember.
      writeFileSync(file, JSON.stringify({ ...entry, sha256: 'e'.repeat(64) }));
      expect(detectTarget({ rememberIn: dir }).btfSha256).toBe('e'.repeat(64));
      expect(detectTarget().btfSha256).toBe(truth);
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
