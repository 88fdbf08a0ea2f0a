import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { ElfFile, resolveLibrary, resolveSymbolOffset, symbolize } from '../src/elf/index.ts';
import { compileBpf, fixturePath } from './fixtures/maps-build.ts';

/** libc's path as ldconfig reports it for this architecture. */
function ldconfigLibc(): string {
  const abi = process.arch === 'arm64' ? 'AArch64' : 'x86-64';
  const line = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.trim().startsWith('libc.so.6 ') && l.includes(abi));
  if (!line) throw new Error('ldconfig -p lists no libc.so.6 for this arch');
  return line.split('=>')[1].trim();
}

/** Offset the way a person would compute it: nm -D value, mapped through readelf's PT_LOAD rows. */
function offsetByBinutils(path: string, name: string): number {
  const nm = execFileSync('nm', ['-D', '--defined-only', path], { encoding: 'utf8' });
  const row = nm.split('\n').find((l) => l.split(' ')[2]?.startsWith(`${name}@@`));
  if (!row) throw new Error(`nm -D has no default-version ${name}`);
  const value = parseInt(row.split(' ')[0], 16);
  const loads = execFileSync('readelf', ['-lW', path], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim().startsWith('LOAD'))
    .map((l) => l.trim().split(/\s+/))
    .map((f) => ({ offset: parseInt(f[1], 16), vaddr: parseInt(f[2], 16), filesz: parseInt(f[4], 16) }));
  const seg = loads.find((s) => value >= s.vaddr && value < s.vaddr + s.filesz);
  if (!seg) throw new Error(`${name} is in no PT_LOAD`);
  return value - seg.vaddr + seg.offset;
}

describe('shared library lookup', () => {
  it('finds libc by short name, soname and path, agreeing with ldconfig -p', () => {
    const expected = ldconfigLibc();
    expect(resolveLibrary('libc')).toBe(expected);
    expect(resolveLibrary('c')).toBe(expected);
    expect(resolveLibrary('libc.so.6')).toBe(expected);
    expect(resolveLibrary(expected)).toBe(expected);
  });

  it('names the library it could not find', () => {
    try {
      resolveLibrary('libdoesnotexist-lbc');
      expect.unreachable();
    } catch (err) {
      expect(isLbcError(err, 'LBC_ERR_LIBRARY_NOT_FOUND')).toBe(true);
      expect((err as Error).message).toContain('libdoesnotexist-lbc');
    }
  });
});

describe('uprobe offsets in libc', () => {
  const libc = resolveLibrary('libc');
  for (const fn of ['malloc', 'exit', 'getpid', 'memcpy']) {
    it(`${fn}: equals nm -D + readelf PT_LOAD mapping`, () => {
      expect(resolveSymbolOffset(libc, fn)).toBe(offsetByBinutils(libc, fn));
    });
  }

  it('accepts a versioned name', () => {
    expect(resolveSymbolOffset(libc, 'malloc@@GLIBC_2.2.5')).toBe(resolveSymbolOffset(libc, 'malloc'));
  });

  it('fails clearly for an unknown symbol and for a non-ELF file', () => {
    expect(() => resolveSymbolOffset(libc, 'no_such_function_lbc')).toThrow(/no_such_function_lbc/);
    const notElf = join(mkdtempSync(join(tmpdir(), 'lbc-elf-')), 'x.so');
    writeFileSync(notElf, 'hello, not an ELF file at all; padding padding padding padding padding');
    try {
      resolveSymbolOffset(notElf, 'malloc');
      expect.unreachable();
    } catch (err) {
      expect(isLbcError(err, 'LBC_ERR_ELF_INVALID')).toBe(true);
    }
  });
});

describe('symbolize', () => {
  const libc = resolveLibrary('libc');
  it('maps an offset inside malloc back to malloc+N', () => {
    const off = resolveSymbolOffset(libc, 'malloc');
    expect(symbolize(libc, off)).toEqual({ name: 'malloc', offset: 0 });
    expect(symbolize(libc, off + 7)).toEqual({ name: 'malloc', offset: 7 });
  });

  it('returns null before the first function', () => {
    expect(symbolize(libc, 0)).toBeNull();
  });
});

describe('sections of BPF objects in both byte orders', () => {
  const src = 'struct point { int x, y; }; struct point p = { 1, 2 }; int getx(void) { return p.x; }';
  for (const bigEndian of [false, true]) {
    it(`${bigEndian ? 'big' : 'little'} endian: .BTF bytes equal llvm-objcopy's dump`, () => {
      const name = bigEndian ? 'maps-elf-be' : 'maps-elf-le';
      const obj = compileBpf(name, src, { bigEndian });
      const elf = new ElfFile(obj, name);
      expect(elf.littleEndian).toBe(!bigEndian);
      const btf = elf.sectionData('.BTF');
      expect(btf).not.toBeNull();
      // BTF magic 0xeb9f in the object's byte order.
      expect(bigEndian ? btf!.readUInt16BE(0) : btf!.readUInt16LE(0)).toBe(0xeb9f);
      const dumped = join(mkdtempSync(join(tmpdir(), 'lbc-elf-')), 'btf.bin');
      execFileSync('llvm-objcopy-16', ['--dump-section', `.BTF=${dumped}`, fixturePath(name)]);
      expect(Buffer.compare(btf!, readFileSync(dumped))).toBe(0);
      expect(elf.section('.text')).toBeDefined();
    });
  }
});
