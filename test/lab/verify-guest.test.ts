/**
 * `lbc verify`'s guest side on real Debian kernels: the farm compiles each program for the kernel,
 * verifyInGuest boots it with the lab runner (static, the client's libbpf) and returns the verdict.
 * Kernels missing from the lab fail the file with the setup command, never skip.
 */
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { isLbcError } from '@lbc/contract';
import { mapBounded, type LabKernel } from '@lbc/core/lab';
import { verifyInGuest, LAB_VERSION, type GuestStage, type GuestVerdict } from '@lbc/worker';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { LAB_PROGRAMS_DIR } from './lab-payload.ts';
import { VERIFY_PROGRAMS_DIR, compileObject } from './verify-objects.ts';
import { labKernelIds, useLabScratch } from './lab-guests.ts';
import { GUESTS_AT_ONCE } from './run-lab.ts';

// The do_mmap twin as test/lab/kernel-lab.test.ts sees it: x86 trampolines take do_mmap's 8-9
// arguments from 6.5 on; arm64 6.1 has no trampolines at all.
const MMAP_TWIN_RUNS: Record<string, 'lab_mmap_fentry' | 'lab_mmap_kprobe'> = {
  'bullseye-5.10': 'lab_mmap_kprobe', 'bookworm-6.1': 'lab_mmap_kprobe', 'bookworm-6.12': 'lab_mmap_fentry', 'trixie-6.12': 'lab_mmap_fentry', 'bookworm-6.1-arm64': 'lab_mmap_kprobe',
};
const KERNEL_IDS = labKernelIds();
// One x86 kernel for the checks that do not depend on the kernel.
const MAIN = KERNEL_IDS.includes('bookworm-6.1') ? 'bookworm-6.1' : KERNEL_IDS.find((id) => !id.endsWith('arm64'))!;
const WORKLOAD = { command: ['cat', '/etc/os-release'], repeat: 5 };
// Generous: other work on this 2-core host can slow TCG guests several times over.
const GUEST_MS = 240_000;

describe('verifyInGuest: verdicts from real kernels', () => {
  const env = useServiceFixture('lbc-verify-guest-');
  const kernels = new Map<string, LabKernel>();
  const twins = new Map<string, GuestVerdict | Error>();
  const verify = (id: string, object: Buffer, rest: Partial<Parameters<typeof verifyInGuest>[0]> = {}) => {
    const k = kernels.get(id)!;
    return verifyInGuest({ arch: k.arch, bootImage: k.vmlinuz, object, timeoutMs: GUEST_MS, ...rest });
  };
  const objects = new Map<string, Buffer>();

  // The guests are verifyInGuest's own (the product's path), not the lab's check runs.
  useLabScratch({
    prefix: 'lbc-verify-objects-',
    kernelIds: KERNEL_IDS,
    setup: async ({ kernels: labKernels, scratch }) => {
      for (const k of labKernels) kernels.set(k.id, k);
      const main = kernels.get(MAIN)!;
      for (const name of ['verify_open', 'verify_reject', 'verify_missing']) objects.set(name, await compileObject(env.service.url, main, name, VERIFY_PROGRAMS_DIR, scratch));
      await mapBounded([...kernels.values()], GUESTS_AT_ONCE, async (k) => {
        try {
          const object = await compileObject(env.service.url, k, 'lab_mmap_twin', LAB_PROGRAMS_DIR, scratch);
          twins.set(k.id, await verify(k.id, object, { workload: WORKLOAD }));
        } catch (err) {
          twins.set(k.id, err as Error);
        }
      });
    },
    hookTimeoutMs: 600_000,
  });

  it('names its lab version for the verdict cache', () => {
    expect(LAB_VERSION).toMatch(/^lab-1-[0-9a-f]{16}$/);
  });

  it('a kprobe writing to a ring buffer passes: loaded with its instruction counts, attached, events from the workload', async () => {
    const stages: GuestStage[] = [];
    const v = await verify(MAIN, objects.get('verify_open')!, { workload: WORKLOAD, onProgress: (s) => stages.push(s) });
    expect(v.status, JSON.stringify(v)).toBe('passed');
    const p = v.programs.find((x) => x.name === 'on_open')!;
    expect(p).toMatchObject({ section: 'kprobe/do_sys_openat2', type: 'kprobe', autoload: true, loaded: true, attached: true });
    expect(p.instructions).toBeGreaterThan(5);
    // bookworm's 6.1 reports verified_insns (5.16+); bullseye's 5.10 has no such field.
    if (MAIN === 'bookworm-6.1') expect(p.verifiedInstructions).toBeGreaterThan(5);
    expect(p.events).toBeGreaterThan(0);
    expect(v.maps.find((m) => m.name === 'events')).toMatchObject({ type: 'ringbuf', records: p.events });
    expect(v.maps.find((m) => m.name === 'opens')!.entries).toBeGreaterThan(0);
    expect(v.bootMs).toBeGreaterThan(0);
    expect(stages).toEqual(['booting', 'loading', 'workload', 'done']);
  }, GUEST_MS + 30_000);

  it('a .rodata global set through setup changes what fires: a pid filter no process matches gives no event', async () => {
    const v = await verify(MAIN, objects.get('verify_open')!, { workload: WORKLOAD, setup: { globals: { target_tgid: 4_000_000 } } });
    expect(v.status, JSON.stringify(v)).toBe('passed');
    const p = v.programs.find((x) => x.name === 'on_open')!;
    expect(p.attached).toBe(true);
    expect(p.runs).toBeGreaterThan(0);
    expect(p.events).toBe(0);
    expect(v.maps.find((m) => m.name === 'opens')!.entries).toBe(0);
  }, GUEST_MS + 30_000);

  it('a program the verifier rejects fails, with the verifier log tail naming the fault', async () => {
    const v = await verify(MAIN, objects.get('verify_reject')!);
    expect(v.status).toBe('failed');
    const p = v.programs.find((x) => x.name === 'unchecked_lookup')!;
    expect(p.loaded).toBe(false);
    expect(p.error).toMatch(/^EACCES \(Permission denied\): the verifier rejected the program/);
    expect(p.verifierLog!.join('\n')).toMatch(/R0 invalid mem access 'map_value_or_null'/);
  }, GUEST_MS + 30_000);

  it('a kprobe on a function the kernel lacks: loaded, its attach fails in words, the other program attaches', async () => {
    const v = await verify(MAIN, objects.get('verify_missing')!);
    expect(v.status).toBe('failed');
    const missing = v.programs.find((x) => x.name === 'on_missing')!;
    expect(missing).toMatchObject({ loaded: true, attached: false });
    expect(missing.error).toMatch(/^ENOENT \(No such file or directory\): the kernel has no such function.*lbc_no_such_function/);
    expect(v.programs.find((x) => x.name === 'on_openat')).toMatchObject({ loaded: true, attached: true });
  }, GUEST_MS + 30_000);

  it('bad setup is refused before any guest boots, with the names the object has', async () => {
    await expect(verify(MAIN, objects.get('verify_open')!, { setup: { globals: { no_such_global: 1 } } })).rejects.toMatchObject({ code: 'LBC_ERR_GLOBAL_NOT_FOUND', message: expect.stringContaining('target_tgid') });
    await expect(verify(MAIN, objects.get('verify_open')!, { setup: { autoload: { nope: false } } })).rejects.toMatchObject({ code: 'LBC_ERR_PROGRAM_NOT_FOUND', message: expect.stringContaining('on_open') });
    await expect(verify(MAIN, objects.get('verify_open')!, { workload: { command: ['true'], repeat: 0 } })).rejects.toMatchObject({ code: 'LBC_ERR_BAD_REQUEST' });
  });

  it('a guest that outlives its wall limit is LBC_ERR_GUEST_TIMEOUT, at once', async () => {
    const started = performance.now();
    const err = await verify(MAIN, objects.get('verify_open')!, { timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(isLbcError(err, 'LBC_ERR_GUEST_TIMEOUT'), String(err)).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
  }, 30_000);

  it('runs QEMU in a hardened container by default (no network, uid 65534, read-only root and inputs, no capabilities, limits), with the verdict a direct QEMU gives', async () => {
    const docker = new Dockerode();
    let inspected: Dockerode.ContainerInspectInfo | undefined;
    let seen: Promise<void> | undefined;
    const boxed = await verify(MAIN, objects.get('verify_open')!, {
      workload: WORKLOAD,
      onProgress: (stage) => {
        if (stage !== 'loading') return;
        // The guest is up: its container is this process's lab-guest container.
        seen = (async () => {
          const [c] = await docker.listContainers({ filters: { label: ['lbc.role=lab-guest', `lbc.owner.pid=${process.pid}`] } });
          if (c) inspected = await docker.getContainer(c.Id).inspect();
        })();
      },
    });
    await seen;
    expect(inspected, 'no lab-guest container found while the guest ran').toBeDefined();
    const host = inspected!.HostConfig;
    expect(inspected!.Config.User).toBe('65534:65534');
    expect(inspected!.Config.Image).toBe('lbc-lab:1');
    expect(inspected!.Config.Cmd![0]).toBe('qemu-system-x86_64');
    expect(host.NetworkMode).toBe('none');
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.SecurityOpt).toContain('no-new-privileges');
    expect(host.Privileged).toBe(false);
    expect(host.PidsLimit).toBeGreaterThan(0);
    expect(host.Memory).toBeGreaterThan(0);
    expect(host.NanoCpus).toBe(2e9);
    expect(host.Ulimits).toContainEqual(expect.objectContaining({ Name: 'cpu' }));
    expect(host.Tmpfs).toHaveProperty('/tmp');
    expect(host.Devices ?? []).toEqual([]);
    const mounts = inspected!.Mounts.map((m) => ({ to: m.Destination, rw: m.RW }));
    expect(mounts.sort((a, b) => a.to.localeCompare(b.to))).toEqual([{ to: '/in/initrd', rw: false }, { to: '/in/kernel', rw: false }]);

    const direct = await verify(MAIN, objects.get('verify_open')!, { workload: WORKLOAD, sandbox: false });
    const same = (v: GuestVerdict) => ({ ...v, bootMs: undefined });
    expect(same(boxed)).toEqual(same(direct));
    expect(boxed.status).toBe('passed');
  }, 2 * GUEST_MS + 30_000);

  describe.each(KERNEL_IDS)('%s', (id) => {
    it('the do_mmap twin runs the side the kernel can attach (the client\'s choice), and its events arrive', () => {
      const v = twins.get(id)!;
      if (v instanceof Error) throw v;
      expect(v.status, JSON.stringify(v)).toBe('passed');
      const runs = MMAP_TWIN_RUNS[id]!;
      const off = runs === 'lab_mmap_fentry' ? 'lab_mmap_kprobe' : 'lab_mmap_fentry';
      expect(v.programs.find((p) => p.name === runs)).toMatchObject({ autoload: true, loaded: true, attached: true });
      expect(v.programs.find((p) => p.name === runs)!.events).toBeGreaterThan(0);
      const other = v.programs.find((p) => p.name === off)!;
      expect(other).toMatchObject({ autoload: false, loaded: false, attached: false, turnedOff: { instead: runs } });
      expect(other.turnedOff!.reason).toMatch(runs === 'lab_mmap_fentry' ? /fentry on do_mmap attaches on this kernel/ : /cannot attach fentry programs on do_mmap/);
    });
  });
});
