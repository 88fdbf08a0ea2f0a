/**
 * POST /v1/verify and GET /v1/verify/:id at the API: the request checked as a compile's (limits,
 * cflags, include names) plus its own (kernels or allBootable, setup and workload bounds); kernels
 * resolved by sha256, prefix or release; a kernel without a boot image refused with
 * LBC_ERR_KERNEL_NOT_BOOTABLE naming the fix and the bootable ones; a queued run answered 202 and
 * readable by its tenant only. Real Redis and SQLite; no worker (the runs stay queued here:
 * test/verify.test.ts runs them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, KernelInfo, VerifyAccepted, VerifyJobStatus } from '@lbc/contract';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { bearer, startAuthHarness, type AuthHarness } from '@lbc/test-support/auth-harness';

const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;
const SOURCE = '#include "lbc.h"\nSEC("tracepoint/syscalls/sys_enter_getpid") int on_getpid(void *ctx) { return 0; }\nchar LICENSE[] SEC("license") = "GPL";\n';

let h: AuthHarness;
let alice: string;
let bob: string;
let admin: string;
let bootable: KernelInfo;
let btfOnly: KernelInfo;

beforeAll(async () => {
  h = await startAuthHarness({ authMode: 'required' });
  alice = h.tokens.create({ tenant: 'alice' }).token;
  bob = h.tokens.create({ tenant: 'bob' }).token;
  admin = h.tokens.create({ tenant: 'ops', admin: true }).token;
  // A kernel set as an image package leaves it (the image's bytes do not matter until a guest boots it).
  const withImage = await h.registry.register({ btf: tinyBtf('verify_boot'), release: '6.1.0-99-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'package' });
  bootable = h.registry.attachBootImage(withImage.kernel.btfSha256, h.registry.putBootImage(Buffer.from('a boot image for the verify API test')));
  btfOnly = (await h.registry.register({ btf: tinyBtf('verify_upload'), release: '6.6.0-uploaded', arch: 'x86_64', source: 'upload' })).kernel;
});
afterAll(async () => h?.close());

const post = (body: object, token = alice) => h.app.inject({ method: 'POST', url: '/v1/verify', headers: bearer(token), payload: { name: 'probe', source: SOURCE, ...body } });

describe('POST /v1/verify: what it refuses', () => {
  it('a kernel without a boot image: LBC_ERR_KERNEL_NOT_BOOTABLE, naming how to make it bootable and the kernels that are', async () => {
    const res = await post({ kernels: [btfOnly.btfSha256.slice(0, 10)] });
    expect(res.statusCode).toBe(422);
    const error = errorOf(res);
    expect(error.code).toBe('LBC_ERR_KERNEL_NOT_BOOTABLE');
    expect(error.message).toContain('6.6.0-uploaded x86_64');
    expect(error.message).toContain('ingest its linux-image package');
    expect(error.message).toContain('bootable: 6.1.0-99-cloud-amd64 x86_64');
    expect(error.hint).toMatch(/lbc-admin ingest linux-image-/);
    expect(error.details).toMatchObject({ kernel: { btfSha256: btfOnly.btfSha256 }, bootable: [{ btfSha256: bootable.btfSha256 }] });
  });

  it('an unknown kernel: 404 LBC_ERR_KERNEL_UNKNOWN with suggestions', async () => {
    const res = await post({ kernels: ['6.1.0-98-cloud-amd64'] });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('LBC_ERR_KERNEL_UNKNOWN');
    expect((errorOf(res).details?.suggestions as { release: string }[]).map((s) => s.release)).toContain('6.1.0-99-cloud-amd64');
  });

  it('neither kernels nor allBootable, or both; a refused cflag; an empty workload', async () => {
    const none = await post({});
    expect(none.statusCode).toBe(400);
    expect(errorOf(none).message).toMatch(/name at least one kernel .* or set allBootable/);
    const both = await post({ kernels: [bootable.release], allBootable: true });
    expect(errorOf(both).message).toMatch(/either kernels or allBootable/);
    const flag = await post({ kernels: [bootable.release], cflags: ['-fplugin=x.so'] });
    expect(flag.statusCode).toBe(400);
    expect(errorOf(flag).code).toBe('LBC_ERR_CFLAG_FORBIDDEN');
    const include = await post({ kernels: [bootable.release], includes: { 'a//x.h': '' } });
    expect(errorOf(include).code).toBe('LBC_ERR_INCLUDE_NAME_INVALID');
    const workload = await post({ kernels: [bootable.release], workload: { command: [] } });
    expect(workload.statusCode).toBe(400);
    expect(errorOf(workload).code).toBe('LBC_ERR_BAD_REQUEST');
    const unknownField = await post({ kernels: [bootable.release], setup: { rodata: {} } });
    expect(unknownField.statusCode).toBe(400);
  });
});

describe('a queued verify run', () => {
  let accepted: VerifyAccepted;

  it('is answered 202 with its job when no verdict comes within waitMs (no worker runs here)', async () => {
    const res = await post({ kernels: [bootable.btfSha256.slice(0, 8)], waitMs: 0, setup: { globals: { target_pid: 1 } }, workload: { command: ['cat', '/etc/hostname'], repeat: 3 } });
    expect(res.statusCode, res.body).toBe(202);
    accepted = res.json() as VerifyAccepted;
    expect(accepted.jobId).toMatch(/^verify-[0-9a-f]{64}$/);
    expect(accepted.url).toBe(`/v1/verify/${accepted.jobId}`);
    // The same request joins the same job.
    const again = await post({ kernels: [bootable.release], waitMs: 0, setup: { globals: { target_pid: 1 } }, workload: { command: ['cat', '/etc/hostname'], repeat: 3 } });
    expect((again.json() as VerifyAccepted).jobId).toBe(accepted.jobId);
    // Another setup is another run.
    const other = await post({ kernels: [bootable.release], waitMs: 0, setup: { globals: { target_pid: 2 } } });
    expect((other.json() as VerifyAccepted).jobId).not.toBe(accepted.jobId);
  });

  it('its tenant reads its state and progress; another tenant gets 404 as if it did not exist; an admin reads it', async () => {
    const mine = await h.app.inject({ url: accepted.url, headers: bearer(alice) });
    expect(mine.statusCode).toBe(200);
    const status = mine.json() as VerifyJobStatus;
    expect(status).toMatchObject({ id: accepted.jobId, state: 'waiting', progress: { stage: 'queued', done: 0, total: 1, percent: 0 } });
    const theirs = await h.app.inject({ url: accepted.url, headers: bearer(bob) });
    expect(theirs.statusCode).toBe(404);
    expect(errorOf(theirs).code).toBe('LBC_ERR_JOB_NOT_FOUND');
    expect((await h.app.inject({ url: accepted.url, headers: bearer(admin) })).statusCode).toBe(200);
    const malformed = await h.app.inject({ url: '/v1/verify/compile-abc', headers: bearer(alice) });
    expect(malformed.statusCode).toBe(400);
  });

  it('the queued job carries what a worker needs: the compile key per kernel, the boot image by sha256, setup and workload', async () => {
    const job = await h.app.verifyService['deps'].producer.getJob(accepted.jobId);
    expect(job?.data.kernels).toHaveLength(1);
    expect(job?.data.kernels[0]).toMatchObject({ kernel: { btfSha256: bootable.btfSha256, arch: 'x86_64' }, bootImage: bootable.bootImage });
    expect(job?.data.kernels[0]!.compileCacheKey).toMatch(/^[0-9a-f]{64}$/);
    expect(job?.data).toMatchObject({ tenant: 'alice', setup: { globals: { target_pid: 1 } }, workload: { command: ['cat', '/etc/hostname'], repeat: 3 }, known: [], order: [bootable.btfSha256] });
  });

  it('allBootable takes every bootable kernel set and no other', async () => {
    const res = await post({ allBootable: true, waitMs: 0 });
    expect(res.statusCode).toBe(202);
    const job = await h.app.verifyService['deps'].producer.getJob((res.json() as VerifyAccepted).jobId);
    expect(job?.data.order).toEqual([bootable.btfSha256]);
  });
});
