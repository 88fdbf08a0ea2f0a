/**
 * Small but real kernel packages, built on the host with the distributions' own tools (gcc -g,
 * pahole, rpmbuild, dpkg-deb, xz, zstd): an ELF "vmlinux" compiled from kernel-like structs, packed
 * the ways distributions ship kernels. Each package gets its own tag struct, so each yields its own
 * BTF (identical BTF would share one kernel set).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KERNEL_HEADER = `
typedef unsigned long long u64;
typedef unsigned int u32;
struct list_head { struct list_head *next, *prev; };
struct rb_node { unsigned long __rb_parent_color; struct rb_node *rb_right; struct rb_node *rb_left; };
struct sched_entity { u64 load; struct rb_node run_node; struct list_head group_node; u32 on_rq; };
struct task_struct {
	volatile long __state;
	void *stack;
	int prio;
	struct sched_entity se;
	unsigned int flags : 3, ptrace : 5;
	char comm[16];
	struct list_head tasks;
};
`;

const kernelSource = (tag: string) => `${KERNEL_HEADER}
struct ${tag} { int v; } ${tag}_var;
struct task_struct init_task;
int do_filp_open(int dfd, struct task_struct *tsk) { return tsk->prio + dfd + ${tag}_var.v; }
`;

/** offsetof() of the members the tests check, as the C compiler lays them out. */
const OFFSETS_PROGRAM = `#include <stdio.h>
#include <stddef.h>
${KERNEL_HEADER}
int main(void) {
	printf("prio %zu\\nse %zu\\ncomm %zu\\ntasks %zu\\nse.run_node %zu\\nsizeof %zu\\n",
		offsetof(struct task_struct, prio), offsetof(struct task_struct, se), offsetof(struct task_struct, comm),
		offsetof(struct task_struct, tasks), offsetof(struct sched_entity, run_node), sizeof(struct task_struct));
	return 0;
}
`;

const run = (cmd: string, args: string[], cwd?: string) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

export class FixtureBuilder {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** offsetof/sizeof values from the host compiler, keyed as in OFFSETS_PROGRAM. */
  offsets(): Record<string, number> {
    const src = join(this.dir, 'offsets.c');
    writeFileSync(src, OFFSETS_PROGRAM);
    run('gcc', ['-o', join(this.dir, 'offsets'), src]);
    const out = run(join(this.dir, 'offsets'), []).toString();
    return Object.fromEntries(out.trim().split('\n').map((l) => [l.split(' ')[0]!, Number(l.split(' ')[1])]));
  }

  /** An ELF with DWARF (gcc -g), or reduced DWARF without types (gcc -g1). */
  dwarfElf(tag: string, debug: '-g' | '-g1' = '-g'): string {
    const src = join(this.dir, `${tag}.c`);
    writeFileSync(src, kernelSource(tag));
    const out = join(this.dir, `${tag}.vmlinux`);
    run('gcc', [debug, '-O0', '-c', '-o', out, src]);
    return out;
  }

  /** An ELF carrying a .BTF section and no DWARF, like a distribution's vmlinux. */
  btfElf(tag: string): string {
    const elf = this.dwarfElf(tag);
    run('pahole', ['-J', elf]);
    run('objcopy', ['--strip-debug', elf]);
    return elf;
  }

  rawBtf(tag: string): string {
    const out = join(this.dir, `${tag}.btf`);
    run('pahole', [`--btf_encode_detached=${out}`, this.dwarfElf(tag)]);
    return out;
  }

  /** A BTFHub-archive file: <release>.btf inside <release>.btf.tar.xz. */
  btfHubArchive(tag: string, release: string, opts: { otherFiles?: number } = {}): string {
    const dir = join(this.dir, `${tag}-hub`);
    mkdirSync(dir, { recursive: true });
    copyFileSync(this.rawBtf(tag), join(dir, `${release}.btf`));
    const others = Array.from({ length: opts.otherFiles ?? 0 }, (_, i) => `zz-${i}.txt`);
    for (const f of others) writeFileSync(join(dir, f), `${f}\n`);
    const out = join(this.dir, `${release}.btf.tar.xz`);
    run('tar', ['-C', dir, '-cJf', out, `${release}.btf`, ...others]);
    return out;
  }

  /** A bzImage-like vmlinuz: a stub that is no ELF, then the compressed vmlinux. */
  vmlinuz(elf: string, compressor: 'gzip' | 'xz' | 'zstd' | 'lz4'): string {
    // The kernel's lz4 is the legacy frame format (lz4 -l).
    const compressed = run(compressor, compressor === 'lz4' ? ['-l', '-c', elf] : ['-c', elf]);
    const out = `${elf}.${compressor}.vmlinuz`;
    writeFileSync(out, Buffer.concat([Buffer.alloc(1536, 0x90), compressed]));
    return out;
  }

  /**
   * An arm64 Image the way Debian ships it as vmlinuz: uncompressed, no ELF, the 64-byte Image header
   * (PE "MZ" stub, magic "ARM\x64" at 0x38), code, then the kernel's .BTF byte for byte inside its
   * read-only data. Before the real blob sit decoys an image may hold by chance: a BTF header whose
   * sections run past the end of the file, and a larger one whose sections fit but are garbage.
   */
  arm64Image(btf: string, opts: { withBtf?: boolean } = {}): string {
    const header = Buffer.alloc(64);
    header.write('MZ', 0, 'latin1');
    header.writeBigUInt64LE(0x200000n, 16); // image size, as the boot protocol has it
    header.write('ARM\x64', 0x38, 'latin1');
    const btfHeader = (typeLen: number, strLen: number) => {
      const h = Buffer.alloc(24);
      h.writeUInt16LE(0xeb9f, 0);
      h.writeUInt8(1, 2);
      h.writeUInt32LE(24, 4);
      h.writeUInt32LE(0, 8);
      h.writeUInt32LE(typeLen, 12);
      h.writeUInt32LE(typeLen, 16);
      h.writeUInt32LE(strLen, 20);
      return h;
    };
    const runsPastEnd = btfHeader(64, 1 << 30);
    const garbage = Buffer.concat([btfHeader(8192, 8192), Buffer.alloc(16384, 0xa5)]);
    const parts = [header, Buffer.alloc(4096, 0x1f), runsPastEnd, Buffer.alloc(512, 0x2e), garbage, Buffer.alloc(4096, 0)];
    if (opts.withBtf !== false) parts.push(readFileSync(btf));
    parts.push(Buffer.alloc(8192, 0));
    const out = `${btf}.arm64.Image`;
    writeFileSync(out, Buffer.concat(parts));
    return out;
  }

  /** A binary RPM holding `files` (package path → host file) with the given payload compression. */
  rpm(opts: { name: string; version: string; release: string; arch: string; vendor?: string; files: Record<string, string>; payload: 'xz' | 'zstd' }): string {
    const top = join(this.dir, `rpm-${opts.name}-${opts.release}-${opts.payload}`);
    for (const d of ['SPECS', 'RPMS', 'BUILD', 'BUILDROOT', 'SOURCES']) mkdirSync(join(top, d), { recursive: true });
    const install = Object.entries(opts.files)
      .map(([to, from]) => `mkdir -p %{buildroot}$(dirname ${to})\ncp ${from} %{buildroot}${to}`)
      .join('\n');
    const spec = `Name: ${opts.name}
Version: ${opts.version}
Release: ${opts.release}
Summary: lbc ingestion test package
License: GPL-2.0
${opts.vendor ? `Vendor: ${opts.vendor}\n` : ''}%define debug_package %{nil}
%define __os_install_post %{nil}
%define _build_id_links none
%description
A test kernel package.
%install
${install}
%files
${Object.keys(opts.files).join('\n')}
`;
    const specFile = join(top, 'SPECS', 'k.spec');
    writeFileSync(specFile, spec);
    run('rpmbuild', [
      '-bb', '--quiet', '--target', opts.arch,
      '--define', `_topdir ${top}`,
      '--define', `_binary_payload ${opts.payload === 'xz' ? 'w2.xzdio' : 'w3.zstdio'}`,
      specFile,
    ]);
    const built = join(top, 'RPMS', opts.arch, `${opts.name}-${opts.version}-${opts.release}.${opts.arch}.rpm`);
    const out = join(this.dir, `${opts.name}-${opts.version}-${opts.release}.${opts.arch}.rpm`);
    copyFileSync(built, out);
    return out;
  }

  /** A binary DEB holding `files`, compressed with -Z`compression`. */
  /** `installedSizeKb`: what the control file claims (a lie, when a test wants one); dpkg-deb computes it otherwise. */
  deb(opts: { name: string; version: string; arch: string; maintainer?: string; files: Record<string, string>; compression: 'xz' | 'zstd' | 'gzip'; fileName?: string; installedSizeKb?: number }): string {
    const root = join(this.dir, `deb-${opts.name}-${opts.compression}`);
    mkdirSync(join(root, 'DEBIAN'), { recursive: true });
    writeFileSync(
      join(root, 'DEBIAN', 'control'),
      `Package: ${opts.name}\nVersion: ${opts.version}\nArchitecture: ${opts.arch}\nMaintainer: ${opts.maintainer ?? 'Debian Kernel Team <debian-kernel@lists.debian.org>'}\n${opts.installedSizeKb !== undefined ? `Installed-Size: ${opts.installedSizeKb}\n` : ''}Description: lbc ingestion test package\n`,
    );
    for (const [to, from] of Object.entries(opts.files)) {
      mkdirSync(join(root, to, '..'), { recursive: true });
      copyFileSync(from, join(root, to));
      chmodSync(join(root, to), 0o644);
    }
    const out = join(this.dir, opts.fileName ?? `${opts.name}_${opts.version.replace(/^\d+:/, '')}_${opts.arch}.deb`);
    run('dpkg-deb', ['--root-owner-group', `-Z${opts.compression}`, '--build', root, out]);
    return out;
  }

  /** A copy of `file` cut to `fraction` of its size. */
  truncated(file: string, fraction: number): string {
    const bytes = readFileSync(file);
    const out = `${file}.truncated`;
    writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length * fraction)));
    return out;
  }

  /** A .deb whose data member's ar header claims 9,999,999,999 bytes (~10 GB). */
  debClaiming10GB(deb: string): string {
    const bytes = Buffer.from(readFileSync(deb));
    let off = 8;
    while (off + 60 <= bytes.length) {
      const name = bytes.subarray(off, off + 16).toString('latin1').trim();
      const size = Number(bytes.subarray(off + 48, off + 58).toString('latin1').trim());
      if (name.startsWith('data.tar')) {
        bytes.write('9999999999', off + 48, 'latin1');
        break;
      }
      off += 60 + size + (size % 2);
    }
    const out = deb.replace(/\.deb$/, '.claims10gb.deb');
    writeFileSync(out, bytes);
    return out;
  }

  file(name: string, content: string | Buffer): string {
    const out = join(this.dir, name);
    writeFileSync(out, content);
    return out;
  }
}
