import { describe, it, expect } from 'vitest';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { runCli } from '@lbc/test-support/run-cli';
import { createHash } from 'node:crypto';
import { freePort } from '@lbc/core';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');

describe('lbc compile (CLI against the real service)', () => {
  const env = useServiceFixture('lbc-cli-compile-', (dir) => {
    copyFileSync(join(FIXTURES, 'execcount.bpf.c'), join(dir, 'execcount.bpf.c'));
    copyFileSync(join(FIXTURES, 'broken.bpf.c'), join(dir, 'broken.bpf.c'));
  });

  it('writes NAME.bpf.o beside the source: a BPF ELF object', async () => {
    const r = await runCli(['compile', 'execcount.bpf.c', '--server', env.service.url, '-D', 'UNUSED=1'], { cwd: env.dir });
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
    const obj = readFileSync(join(env.dir, 'execcount.bpf.o'));
    expect(obj.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(obj.readUInt16LE(18)).toBe(247); // e_machine EM_BPF
  });

  it('-o names the output; a second compile is served from the service cache', async () => {
    const out = join(env.dir, 'again.o');
    const r = await runCli(['compile', join(env.dir, 'execcount.bpf.c'), '-o', out, '--server', env.service.url, '-D', 'UNUSED=1']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cached/);
    expect(readFileSync(out).equals(readFileSync(join(env.dir, 'execcount.bpf.o')))).toBe(true);
  });

  it('a compile error prints clang diagnostics with the user file name and exits 1', async () => {
    const r = await runCli(['compile', 'broken.bpf.c', '--server', env.service.url], { cwd: env.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/broken\.bpf\.c:6:\d+: error: use of undeclared identifier 'undeclared_variable'/);
    expect(r.stderr).toContain('LBC_ERR_COMPILE');
    expect(r.stderr).not.toMatch(/\/job\/|\/tmp\//);
    expect(existsSync(join(env.dir, 'broken.bpf.o'))).toBe(false);
  });

  it('a forbidden flag is refused before anything is sent', async () => {
    const r = await runCli(['compile', 'execcount.bpf.c', '-D', 'X;rm', '--server', env.service.url], { cwd: env.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_CFLAG_FORBIDDEN');
  });

  it('an unreachable service is named with its cause', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const r = await runCli(['compile', 'execcount.bpf.c', '--server', url], { cwd: env.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`LBC_ERR_SERVER_UNREACHABLE`);
    expect(r.stderr).toContain(url);
    expect(r.stderr).toContain('ECONNREFUSED');
  });

  it('an unknown kernel lists the nearest ones the service knows, as flags to retry with', async () => {
    const r = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'x.o'), '--release', '5.10.0-99-amd64', '--arch', 'x86_64', '--server', env.service.url], { cwd: env.dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
    expect(r.stderr).toContain(`--release ${execRelease()} --arch x86_64 --btf-sha `);
  });

  it('--release without --arch: an aarch64-only release compiles for aarch64; a release on two arches names both', async () => {
    const upload = async (btf: Buffer, release: string, arch: string) => {
      const res = await fetch(`${env.service.url}/v1/kernels/${createHash('sha256').update(btf).digest('hex')}?release=${release}&arch=${arch}`, {
        method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(btf),
      });
      expect(res.status, await res.clone().text()).toBe(201);
    };
    // This machine's types under hashes of their own (strings padded), registered as other machines' kernels.
    await upload(paddedHostBtf(2), '6.12.0-lab-arm64', 'aarch64');
    const r = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'arm.o'), '--release', '6.12.0-lab-arm64', '--server', env.service.url], { cwd: env.dir });
    expect(r.stderr).toMatch(/wrote .*arm\.o .*6\.12\.0-lab-arm64 aarch64\)/);
    expect(r.code).toBe(0);

    const wrong = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'x.o'), '--release', '6.12.0-lab-arm64', '--arch', 'x86_64', '--server', env.service.url], { cwd: env.dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
    expect(wrong.stderr).toMatch(/this release for aarch64 only/);
    expect(wrong.stderr).toContain('--release 6.12.0-lab-arm64 --arch aarch64 --btf-sha ');

    await upload(paddedHostBtf(3), '6.12.0-lab-arm64', 'x86_64');
    const both = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'x.o'), '--release', '6.12.0-lab-arm64', '--server', env.service.url], { cwd: env.dir });
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('LBC_ERR_KERNEL_AMBIGUOUS');
    expect(both.stderr).toMatch(/known for (x86_64 and aarch64|aarch64 and x86_64); give the arch/);
    expect(both.stderr).toContain('--release 6.12.0-lab-arm64 --arch aarch64 --btf-sha ');
    expect(both.stderr).toContain('--release 6.12.0-lab-arm64 --arch x86_64 --btf-sha ');
  });

  it("a CO-RE program for an older x86_64 kernel is built against the host's newer header and says so; --per-kernel builds it against that kernel's own", async () => {
    const btf = paddedHostBtf(4);
    const sha = createHash('sha256').update(btf).digest('hex');
    const res = await fetch(`${env.service.url}/v1/kernels/${sha}?release=5.4.0-lab&arch=x86_64`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(btf) });
    expect(res.status).toBe(201);
    const core = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'old.o'), '--release', '5.4.0-lab', '--arch', 'x86_64', '--server', env.service.url], { cwd: env.dir });
    expect(core.code, core.stderr).toBe(0);
    expect(core.stderr).toMatch(/\n  CO-RE: built against the \S+ header, one object for every x86_64 kernel\n/);
    const own = await runCli(['compile', 'execcount.bpf.c', '-o', join(env.dir, 'own.o'), '--release', '5.4.0-lab', '--arch', 'x86_64', '--per-kernel', '--server', env.service.url], { cwd: env.dir });
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toContain("\n  built against the kernel's own header: requested (header: kernel)\n");
  });

  it('lbc kernels lists the host kernel', async () => {
    const r = await runCli(['kernels', '--server', env.service.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(execRelease());
  });
});

/** The host's BTF with `pad` empty strings appended: the same types under another sha256. */
function paddedHostBtf(pad: number): Buffer {
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  const out = Buffer.concat([btf, Buffer.alloc(pad)]);
  out.writeUInt32LE(btf.readUInt32LE(20) + pad, 20);
  return out;
}

function execRelease(): string {
  return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
}
