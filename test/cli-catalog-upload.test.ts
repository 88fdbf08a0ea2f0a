/**
 * lbc struct / func / type against a service that has never seen this machine's kernel (its host
 * kernel hidden from it, see support/no-host-kernel.ts): the first command uploads
 * /sys/kernel/btf/vmlinux once and says so, the answer matches bpftool's reading of that BTF, and
 * later commands ask without uploading. Then what goes wrong, each with its code: a service that
 * refuses the upload, BTF that cannot be read, a --kernel the service does not know.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelInfo } from '@lbc/contract';
import { bpftoolTypes, type BpftoolType } from '@lbc/test-support/bpftool-btf';
import { WITHOUT_HOST_BTF } from '@lbc/test-support/no-host-kernel';
import { runCli } from '@lbc/test-support/run-cli';
import type { RunningService } from '@lbc/test-support/service';
import { useServiceFixture } from '@lbc/test-support/service-fixture';

const run = promisify(execFile);
const LBC_ADMIN = join(import.meta.dirname, '..', 'services', 'farm', 'bin', 'lbc-admin.mjs');
const HOST_BTF = '/sys/kernel/btf/vmlinux';
const hostSha = createHash('sha256').update(readFileSync(HOST_BTF)).digest('hex');
const UPLOADING = /does not know this kernel \(.* x86_64, BTF [0-9a-f]{12}\): uploading its BTF \([\d.]+ MB\), once/;
let taskStruct: BpftoolType;

beforeAll(() => {
  taskStruct = bpftoolTypes(HOST_BTF).find((t) => t.kind === 'STRUCT' && t.name === 'task_struct')!;
});

/** A service without the host kernel, on a private Redis; `env` for its settings (LBC_AUTH). */
// /metrics is read without a token (LBC_METRICS_ACCESS=tenant) to count the uploads the service answered.
const useEmptyService = (env: Record<string, string> = {}) => useServiceFixture('lbc-cli-upload-', undefined, undefined, { env: { LBC_METRICS_ACCESS: 'tenant', ...env }, wrap: WITHOUT_HOST_BTF });

/** PUT /v1/kernels/:sha256 requests the service has answered, by status (its own Prometheus counter). */
async function uploadsSeen(service: RunningService, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const text = await (await fetch(`${service.url}/metrics`, { headers })).text();
  const seen: Record<string, number> = {};
  for (const m of text.matchAll(/^lbc_http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (labels.method === 'PUT' && labels.route === '/v1/kernels/:sha256') seen[labels.status!] = (seen[labels.status!] ?? 0) + Number(m[2]);
  }
  return seen;
}

describe('catalog commands upload this kernel to a service that does not know it', () => {
  const fx = useEmptyService();
  const lbc = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--server', fx.service.url], { env });
  const kernels = async () => JSON.parse((await lbc(['kernels', '--json'])).stdout) as KernelInfo[];

  it('starts with no kernel at all; --kernel then says so instead of listing kernels', async () => {
    expect(await kernels()).toEqual([]);
    const listing = await lbc(['kernels']);
    expect(listing.code).toBe(0);
    expect(listing.stdout.trim().split('\n')).toHaveLength(1); // the header
    expect(listing.stderr).toContain('the service knows no kernel yet');
    const byRelease = await lbc(['kernels', '--release', osRelease()]);
    expect(byRelease.code).toBe(1);
    expect(byRelease.stderr).toContain(`no kernel with release ${osRelease()}, nor one near it`);
    const r = await lbc(['struct', 'task_struct', '--kernel', osRelease()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
    expect(r.stderr).toContain('the service knows no kernel yet');
    expect(await uploadsSeen(fx.service)).toEqual({});
  });

  it('BTF that cannot be read is LBC_ERR_KERNEL_BTF_UNREADABLE naming the file; nothing is uploaded', async () => {
    const missing = join(fx.dir, 'no-such-btf');
    const r = await lbc(['struct', 'task_struct'], { LBC_KERNEL_BTF: missing });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('LBC_ERR_KERNEL_BTF_UNREADABLE');
    expect(r.stderr).toContain(missing);
    expect(r.stderr).toContain('--kernel');
    const directory = join(fx.dir, 'a-directory');
    mkdirSync(directory);
    const dirRun = await lbc(['func', 'do_filp_open'], { LBC_KERNEL_BTF: directory });
    expect(dirRun.code).toBe(1);
    expect(dirRun.stderr).toMatch(/LBC_ERR_KERNEL_BTF_UNREADABLE: .*a-directory: EISDIR/);
    expect(await uploadsSeen(fx.service)).toEqual({});
  });

  it('a file that is not BTF is uploaded and refused with LBC_ERR_BTF_INVALID, saying it was the upload', async () => {
    const junk = join(fx.dir, 'junk.btf');
    writeFileSync(junk, 'not BTF at all\n');
    const r = await lbc(['type', 'pid_t'], { LBC_KERNEL_BTF: junk });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(UPLOADING);
    expect(r.stderr).toContain('LBC_ERR_BTF_INVALID');
    expect(r.stderr).toContain("refused the upload of this kernel's BTF");
    expect(r.stderr).toContain('or: pass --kernel with a kernel the service knows');
    expect(r.stderr).not.toContain('uploaded;');
    expect(await uploadsSeen(fx.service)).toEqual({ '400': 1 });
    expect(await kernels()).toEqual([]);
  });

  it('lbc struct task_struct uploads /sys/kernel/btf/vmlinux once, says so, and answers as bpftool reads it', async () => {
    const r = await lbc(['struct', 'task_struct']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(UPLOADING);
    expect(r.stderr).toContain(`BTF ${hostSha.slice(0, 12)}`);
    expect(r.stderr).toContain('lbc: uploaded;');
    const commOffset = taskStruct.members!.find((m) => m.name === 'comm')!.bits_offset / 8;
    expect(r.stdout.startsWith('struct task_struct {\n')).toBe(true);
    expect(r.stdout).toMatch(new RegExp(`\\tchar comm\\[16\\];\\s+/\\*\\s+${commOffset}\\s+16 \\*/`));
    expect(r.stdout).toContain(`/* size: ${taskStruct.size}, `);

    const listed = await kernels();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ btfSha256: hostSha, release: osRelease(), arch: 'x86_64', source: 'upload' });
    expect(await uploadsSeen(fx.service)).toEqual({ '400': 1, '201': 1 });
  });

  it('later commands (func, type, struct --json) ask without uploading again', async () => {
    const f = await lbc(['func', 'do_filp_open']);
    expect(f.stderr).toBe('');
    expect(f.stdout).toMatch(/^struct file \*do_filp_open\(int dfd, struct filename \*pathname, const struct open_flags \*op\);\n$/);
    const t = await lbc(['type', 'pid_t']);
    expect(t.stderr).toBe('');
    expect(t.stdout).toContain('pid_t -> __kernel_pid_t -> int');
    const s = await lbc(['struct', 'task_struct', '--json']);
    expect(s.stderr).toBe('');
    expect(JSON.parse(s.stdout)).toMatchObject({ kernel: hostSha, size: taskStruct.size });
    expect(await uploadsSeen(fx.service)).toEqual({ '400': 1, '201': 1 });
    expect(await kernels()).toHaveLength(1);
  });

  it('--kernel naming an unknown kernel: LBC_ERR_KERNEL_UNKNOWN with the nearest as --kernel flags that work', async () => {
    const r = await lbc(['func', 'do_filp_open', '--kernel', '6.1.0-99-nowhere']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('LBC_ERR_KERNEL_UNKNOWN');
    expect(r.stderr).toContain('"6.1.0-99-nowhere"');
    const suggested = /^ {4}--kernel ([0-9a-f]{12}) {3}(\S+) x86_64/m.exec(r.stderr);
    expect(suggested, r.stderr).not.toBeNull();
    expect(suggested![1]).toBe(hostSha.slice(0, 12));
    expect(suggested![2]).toBe(osRelease());
    expect(r.stderr).not.toContain('--btf-sha'); // compile's flags, not this command's
    const retry = await lbc(['func', 'do_filp_open', '--kernel', suggested![1]!]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('do_filp_open(');
    // Too short or odd characters: named as the flag (the service would only say "params/id").
    for (const bad of ['5f7', '6.1/x', '']) {
      const b = await lbc(['type', 'pid_t', '--kernel', bad]);
      expect(b.code).toBe(1);
      expect(b.stderr).toContain(`LBC_ERR_BAD_REQUEST: The request is malformed: --kernel ${JSON.stringify(bad)}: give a kernel's BTF sha256`);
    }
    expect(await uploadsSeen(fx.service)).toEqual({ '400': 1, '201': 1 });
  });
});

describe('a service with LBC_AUTH=required that does not know this kernel', () => {
  const fx = useEmptyService({ LBC_AUTH: 'required' });
  const lbc = (args: string[], token?: string) => runCli([...args, '--server', fx.service.url], { env: { LBC_TOKEN: token ?? '' } });
  const tokens = {} as { tenant: string; admin: string };

  beforeAll(async () => {
    // As an operator does: lbc-admin on the data directory, shared with the running API through Redis.
    const create = async (args: string[]) =>
      (await run(process.execPath, [LBC_ADMIN, '--data-dir', fx.service.dataDir, 'token', 'create', ...args], { env: { ...process.env, REDIS_URL: fx.redis.url } })).stdout.trim();
    tokens.tenant = await create(['--tenant', 'alice']);
    tokens.admin = await create(['--tenant', 'ops', '--admin']);
  });

  it('without a token: LBC_ERR_AUTH_REQUIRED before any upload', async () => {
    const r = await lbc(['struct', 'task_struct']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('LBC_ERR_AUTH_REQUIRED');
    expect(r.stderr).not.toMatch(UPLOADING);
  });

  it("a tenant's token: the upload is refused with LBC_ERR_FORBIDDEN, saying what was refused and what to do", async () => {
    const r = await lbc(['struct', 'task_struct'], tokens.tenant);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(UPLOADING);
    expect(r.stderr).toContain('LBC_ERR_FORBIDDEN');
    expect(r.stderr).toContain(`refused the upload of this kernel's BTF: ${osRelease()} x86_64, BTF ${hostSha.slice(0, 12)}`);
    expect(r.stderr).toContain('lbc-admin token create --admin');
    expect(r.stderr).toContain('or: pass --kernel with a kernel the service knows');
    expect(JSON.parse((await lbc(['kernels', '--json'], tokens.tenant)).stdout)).toEqual([]);
    expect(await uploadsSeen(fx.service, { authorization: `Bearer ${tokens.admin}` })).toEqual({ '403': 1 });
  });

  it("an admin's token uploads it; the tenant then gets answers without uploading", async () => {
    const r = await lbc(['type', 'pid_t'], tokens.admin);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(UPLOADING);
    expect(r.stdout).toContain('typedef __kernel_pid_t pid_t;');
    const t = await lbc(['func', 'do_filp_open'], tokens.tenant);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stderr).toBe('');
    expect(await uploadsSeen(fx.service, { authorization: `Bearer ${tokens.admin}` })).toEqual({ '403': 1, '201': 1 });
  });
});
