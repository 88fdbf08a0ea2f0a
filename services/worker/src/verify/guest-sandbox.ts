/**
 * QEMU in a single-use container with the compile sandbox's hardening (sandbox/hardening.ts: no
 * network, uid 65534, read-only root, no capabilities, no new privileges, pid/memory/CPU limits,
 * /proc and /sys masked), the kernel and initramfs bind-mounted read-only, /tmp a small tmpfs.
 * TCG needs no device: nothing of the host but those two files reaches the container, and nothing
 * but the console comes back. The worker's wall limit (bootGuest's timeout) kills the container.
 */
import { PassThrough } from 'node:stream';
import Dockerode from 'dockerode';
import { LbcError } from '@lbc/contract';
import type { QemuLauncher, QemuProcess } from '@lbc/core/lab';
import { attachOutput } from '../sandbox/attach-output.ts';
import { hardenedContainerOptions, type SandboxLimits } from '../sandbox/hardening.ts';
import { ownerLabels } from '../sandbox/warm-pool.ts';

export const LAB_IMAGE = process.env.LBC_LAB_IMAGE ?? 'lbc-lab:1';
export const LAB_IMAGE_BUILD_COMMAND = 'bash containers/build-lab-image.sh';

export interface GuestSandbox {
  docker?: Dockerode;
  /** The image holding qemu-system-x86_64 and qemu-system-aarch64 (default lbc-lab:1, LBC_LAB_IMAGE). */
  image?: string;
  limits?: Partial<SandboxLimits>;
  /** CPUs the container may use (default 2). */
  cpus?: number;
}

/** A guest of 256 MB plus QEMU's own (TCG's translation cache, device models). */
export const DEFAULT_GUEST_LIMITS: SandboxLimits = {
  cpuSeconds: 120,
  maxFileBytes: 1024 * 1024,
  memoryBytes: 1024 * 1024 * 1024,
  pids: 64,
};

/**
 * QEMU's vCPU thread and its main loop both work through a boot: under one CPU's quota they take
 * turns (boot to verdict 3.8-8.0 s against 3.5-4.4 s with two, measured here interleaved).
 */
export const DEFAULT_GUEST_CPUS = 2;

const IN_KERNEL = '/in/kernel';
const IN_INITRD = '/in/initrd';

/** Label role of the containers, for the worker's leftover sweep. */
export const LAB_ROLE = 'lab-guest';

export function sandboxedQemu(sandbox: GuestSandbox = {}): QemuLauncher {
  const docker = sandbox.docker ?? new Dockerode();
  const image = sandbox.image ?? LAB_IMAGE;
  const limits = { ...DEFAULT_GUEST_LIMITS, ...sandbox.limits };
  return (command): QemuProcess => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let container: Dockerode.Container | undefined;
    let killed = false;
    const exited = (async () => {
      try {
        await docker.getImage(image).inspect().catch(() => {
          throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `the lab's guest image ${image} is missing; build it with ${LAB_IMAGE_BUILD_COMMAND}`, { image });
        });
        const options = hardenedContainerOptions({
          image,
          cmd: [command.binary, ...command.args, '-kernel', IN_KERNEL, '-initrd', IN_INITRD],
          workingDir: '/tmp',
          mounts: [
            { host: command.kernel, container: IN_KERNEL, writable: false },
            { host: command.initrd, container: IN_INITRD, writable: false },
          ],
          labels: ownerLabels(LAB_ROLE),
          limits,
        });
        options.HostConfig!.NanoCpus = Math.round((sandbox.cpus ?? DEFAULT_GUEST_CPUS) * 1e9);
        container = await docker.createContainer(options);
        const { stream, ended } = await attachOutput(docker, container, stdout, stderr);
        await container.start();
        // QEMU's console reads stdin: closed, as for a child process given /dev/null.
        stream.end();
        if (killed) await container.kill().catch(() => {});
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await Promise.race([ended, new Promise((r) => setTimeout(r, 500))]);
        return StatusCode === 137 ? { code: null, signal: 'SIGKILL' } : { code: StatusCode, signal: null };
      } catch (err) {
        if (err instanceof LbcError) throw err;
        throw new LbcError('LBC_ERR_SANDBOX', `running the lab guest's container: ${(err as Error).message}`, undefined, { cause: err });
      } finally {
        stdout.end();
        stderr.end();
        if (container) await container.remove({ force: true }).catch(() => {});
      }
    })();
    return {
      stdout,
      stderr,
      kill: () => {
        killed = true;
        container?.kill().catch(() => {});
      },
      exited,
    };
  };
}
