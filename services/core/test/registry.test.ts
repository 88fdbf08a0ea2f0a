import { existsSync, readFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { getSharedBtf, hostDistro, registerHostKernel, sha256Of } from '@lbc/core';
import { useRegistry } from '@lbc/test-support/registry-fixture';
import { caught } from '@lbc/test-support/caught';
import { tinyBtf } from '@lbc/test-support/tiny-btf';

const env = useRegistry('lbc-registry-');

describe('kernel registry', () => {
  it('registers the host kernel from /sys/kernel/btf/vmlinux and publishes its BTF to Redis', async () => {
    expect(existsSync('/sys/kernel/btf/vmlinux')).toBe(true);
    const host = (await registerHostKernel(env.registry))!;
    const btf = readFileSync('/sys/kernel/btf/vmlinux');
    expect(host).toMatchObject({ btfSha256: sha256Of(btf), release: osRelease(), arch: 'x86_64', source: 'host', btfSize: btf.length, distro: hostDistro() });
    expect(hostDistro()).toBe('debian');
    expect(await env.registry.farmBlobs.has(host.btfSha256)).toBe(true);
    expect((await getSharedBtf(env.registry.farmBlobs, host.btfSha256))!.equals(btf)).toBe(true);
    // Registering again is idempotent.
    const again = await env.registry.register({ btf, release: osRelease(), arch: 'x86_64', source: 'upload' });
    expect(again.created).toBe(false);
    expect(again.kernel.source).toBe('host');
  });

  it('refuses a hash that is not the BTF sha256, and bytes that are not BTF', async () => {
    const btf = tinyBtf('k');
    expect((await caught(() => env.registry.register({ btf, release: 'x', arch: 'x86_64', source: 'upload', expectedSha256: '0'.repeat(64) }))).code).toBe('LBC_ERR_BTF_HASH_MISMATCH');
    expect((await caught(() => env.registry.register({ btf: Buffer.from('#!/bin/sh\necho not btf at all\n'), release: 'x', arch: 'x86_64', source: 'upload' }))).code).toBe('LBC_ERR_BTF_INVALID');
    const truncated = readFileSync('/sys/kernel/btf/vmlinux').subarray(0, 4096);
    expect((await caught(() => env.registry.register({ btf: truncated, release: 'x', arch: 'x86_64', source: 'upload' }))).message).toMatch(/past the end/);
    // A consistent header over types that do not parse: the full parser (@lbc/btf) refuses it.
    const badKind = tinyBtf('bad');
    badKind.writeUInt32LE(31 << 24, 24 + 4);
    const err = await caught(() => env.registry.register({ btf: badKind, release: 'x', arch: 'x86_64', source: 'upload' }));
    expect(err.code).toBe('LBC_ERR_BTF_INVALID');
    expect(env.registry.get(sha256Of(badKind))).toBeNull();
  });

  it('resolves by hash exactly, else the newest kernel of that release and arch', async () => {
    const a = (await env.registry.register({ btf: tinyBtf('a'), release: '6.1.0-50-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' })).kernel;
    const b = (await env.registry.register({ btf: tinyBtf('b'), release: '6.1.0-50-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'upload', byAdmin: true })).kernel;
    expect(env.registry.resolve({ release: 'ignored', arch: 'x86_64', btfSha256: a.btfSha256 }).btfSha256).toBe(a.btfSha256);
    // The later registration wins, even within the same millisecond.
    expect(env.registry.resolve({ release: '6.1.0-50-cloud-amd64', arch: 'x86_64' }).btfSha256).toBe(b.btfSha256);
    expect((await caught(() => env.registry.resolve({ release: '6.1.0-50-cloud-amd64', arch: 'aarch64' }))).code).toBe('LBC_ERR_KERNEL_UNKNOWN');
  });

  it('a release is never taken over by a non-admin upload: kept by its sha256, it does not answer for the release; host, package and admin kernels do', async () => {
    const host = (await env.registry.register({ btf: tinyBtf('host_k'), release: '6.18.0-takeover', arch: 'aarch64', distro: 'debian', source: 'host' })).kernel;
    const upload = await env.registry.register({ btf: tinyBtf('evil_k'), release: '6.18.0-takeover', arch: 'aarch64', distro: 'debian', source: 'upload' });
    expect(upload.created).toBe(true);
    expect(upload.kernel.answersForRelease).toBe(false);
    expect(env.registry.resolve({ release: '6.18.0-takeover', arch: 'aarch64' }).btfSha256).toBe(host.btfSha256);
    expect(env.registry.resolve({ release: 'x', arch: 'aarch64', btfSha256: upload.kernel.btfSha256 }).btfSha256).toBe(upload.kernel.btfSha256);
    // The same upload again changes nothing; a package of that release wins as the host did.
    expect((await env.registry.register({ btf: tinyBtf('evil_k'), release: '6.18.0-takeover', arch: 'aarch64', source: 'upload' })).kernel.answersForRelease).toBe(false);
    const pkg = (await env.registry.register({ btf: tinyBtf('pkg_k'), release: '6.18.0-takeover', arch: 'aarch64', distro: 'debian', source: 'package' })).kernel;
    expect(env.registry.resolve({ release: '6.18.0-takeover', arch: 'aarch64' }).btfSha256).toBe(pkg.btfSha256);
    // An admin vouching for the kept upload makes it answer, even in the millisecond the package came in.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(pkg.createdAt) });
    try {
      const vouched = await env.registry.register({ btf: tinyBtf('evil_k'), release: '6.18.0-takeover', arch: 'aarch64', source: 'upload', byAdmin: true });
      expect(vouched.kernel.answersForRelease).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(env.registry.resolve({ release: '6.18.0-takeover', arch: 'aarch64' }).btfSha256).toBe(upload.kernel.btfSha256);
    // A release nobody holds is the first uploader's.
    const fresh = (await env.registry.register({ btf: tinyBtf('fresh_k'), release: '6.18.0-unclaimed', arch: 'aarch64', source: 'upload' })).kernel;
    expect(fresh.answersForRelease).toBe(true);
    expect(env.registry.resolve({ release: '6.18.0-unclaimed', arch: 'aarch64' }).btfSha256).toBe(fresh.btfSha256);
  });

  it('an unknown kernel lists the nearest releases of every arch', async () => {
    await env.registry.register({ btf: tinyBtf('c'), release: '6.1.0-48-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' });
    await env.registry.register({ btf: tinyBtf('d'), release: '5.10.0-30-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' });
    await env.registry.register({ btf: tinyBtf('e'), release: '6.1.0-49-arm64', arch: 'aarch64', distro: 'debian', source: 'upload' });
    const err = await caught(() => env.registry.resolve({ release: '6.1.0-47-cloud-amd64', arch: 'x86_64' }));
    expect(err.status).toBe(404);
    const suggestions = (err.details!.suggestions as { release: string; arch: string }[]).map((s) => `${s.release} ${s.arch}`);
    expect(suggestions.slice(0, 4)).toEqual(['6.1.0-48-cloud-amd64 x86_64', '6.1.0-49-arm64 aarch64', '6.1.0-50-cloud-amd64 x86_64', '6.1.0-50-cloud-amd64 x86_64']);
    expect(suggestions).toHaveLength(5);
  });

  it('a release named without an arch: the one arch that has it, else LBC_ERR_KERNEL_AMBIGUOUS naming the arches', async () => {
    const arm = (await env.registry.register({ btf: tinyBtf('arm_only'), release: '6.12.118+deb13-cloud-arm64', arch: 'aarch64', distro: 'debian', source: 'package' })).kernel;
    expect(env.registry.resolve({ release: '6.12.118+deb13-cloud-arm64' })).toMatchObject({ btfSha256: arm.btfSha256, arch: 'aarch64' });
    expect(env.registry.resolve({ release: 'ignored', btfSha256: arm.btfSha256 }).btfSha256).toBe(arm.btfSha256);

    // Named with the other arch: unknown, but the message and the first suggestion point at the arch that has it.
    const wrongArch = await caught(() => env.registry.resolve({ release: '6.12.118+deb13-cloud-arm64', arch: 'x86_64' }));
    expect(wrongArch.code).toBe('LBC_ERR_KERNEL_UNKNOWN');
    expect(wrongArch.message).toMatch(/6\.12\.118\+deb13-cloud-arm64 x86_64; the service has this release for aarch64 only/);
    expect(wrongArch.details!.arches).toEqual(['aarch64']);
    expect((wrongArch.details!.suggestions as unknown[])[0]).toEqual({ btfSha256: arm.btfSha256, release: '6.12.118+deb13-cloud-arm64', arch: 'aarch64', distro: 'debian' });
    expect((await caught(() => env.registry.resolve({ release: 'ignored', arch: 'x86_64', btfSha256: arm.btfSha256 }))).code).toBe('LBC_ERR_KERNEL_UNKNOWN');

    const x86 = (await env.registry.register({ btf: tinyBtf('both_x86'), release: '6.6.0-lab', arch: 'x86_64', source: 'upload' })).kernel;
    const a64 = (await env.registry.register({ btf: tinyBtf('both_arm'), release: '6.6.0-lab', arch: 'aarch64', source: 'upload' })).kernel;
    const both = await caught(() => env.registry.resolve({ release: '6.6.0-lab' }));
    expect(both.code).toBe('LBC_ERR_KERNEL_AMBIGUOUS');
    expect(both.message).toMatch(/release 6\.6\.0-lab is known for (aarch64 and x86_64|x86_64 and aarch64); give the arch/);
    expect((both.details!.arches as string[]).sort()).toEqual(['aarch64', 'x86_64']);
    expect((both.details!.candidates as { btfSha256: string }[]).map((c) => c.btfSha256).sort()).toEqual([x86.btfSha256, a64.btfSha256].sort());
    expect(env.registry.resolve({ release: '6.6.0-lab', arch: 'aarch64' }).btfSha256).toBe(a64.btfSha256);

    const none = await caught(() => env.registry.resolve({ release: '6.12.118+deb13-cloud-amd64' }));
    expect(none.code).toBe('LBC_ERR_KERNEL_UNKNOWN');
    expect((none.details!.suggestions as { release: string }[])[0]!.release).toBe('6.12.118+deb13-cloud-arm64');
  });

  it('publishes every known kernel again after Redis lost them', async () => {
    await env.redis.flushall();
    const n = await env.registry.republishAll();
    expect(n).toBe(env.registry.list().length);
    for (const k of env.registry.list()) expect(await env.registry.farmBlobs.has(k.btfSha256)).toBe(true);
  });
});
