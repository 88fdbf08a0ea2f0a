/**
 * Kernel sets: per (BTF hash, toolchain), a directory holding the raw BTF, the vmlinux.h dumped
 * from it and a precompiled vmlinux.h. The BTF is user-uploaded, so bpftool and clang read it only
 * inside the sandbox. Built once: an in-process promise map and a lock file keep builds of one set
 * single, and the finished directory appears by an atomic rename.
 *
 * The precompiled header and every compile share PCH_FLAGS exactly, and a set records the flags its
 * header was made with (PCH_STAMP). A set whose record is missing (made before there was one) or
 * names other flags gets its header made again, in place, the first time a job needs the set.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import { LbcError } from '@lbc/contract';
import { getSharedBtf, kernelSetFailure, LBC_HEADER_DIR, rememberKernelSetFailure, toolchainShort, type FarmBlobs } from '@lbc/core';
import { SandboxContainer } from '../sandbox/sandbox-container.ts';
import type { SandboxLimits } from '../sandbox/hardening.ts';
import { ownerLabels, SANDBOX_KERNEL } from '../sandbox/warm-pool.ts';
import { KERNEL_HEADER, KERNEL_PCH, PCH_FLAGS } from '../compile/clang-args.ts';
import { readSandboxOutput, writeNew } from '../sandbox/job-dir.ts';
import { withBuildLock } from './build-lock.ts';
import { LbcPchStore, type LbcPch } from './lbc-pch.ts';

export interface KernelSet {
  dir: string;
  /** False when the precompiled header could not be built: compiles use the plain header. */
  hasPch: boolean;
}

export interface KernelSetStoreOptions {
  docker: Dockerode;
  redis: Redis;
  /** Where kernel BTF is found by hash (the farm blob store). */
  blobs: FarmBlobs;
  image: string;
  toolchain: string;
  dataDir: string;
  limits: SandboxLimits;
  /** Wall-clock bound on each tool run over the BTF (bpftool's dump, clang's PCH). */
  buildTimeoutMs?: number;
  /** CPU bound on each such run: a 53-byte BTF with a typedef loop makes bpftool spin until it. */
  buildCpuSeconds?: number;
  /** The lbc.h directory compiles mount at /lbc (the warm pool's); default: the checkout's. */
  headerDir?: string;
}

/** Beside vmlinux.h.pch: the flags it was made with (PCH_FLAGS), written even when it could not be made. */
export const PCH_STAMP = 'vmlinux.h.pch.flags';
const pchStamp = () => `${PCH_FLAGS.join(' ')}\n`;

/** A real kernel's BTF dumps in about a second and its header precompiles in a few. */
export const KERNEL_SET_CPU_SECONDS = 60;
export const KERNEL_SET_TIMEOUT_MS = 120_000;

const SANDBOX_UID = 65534;

/** A new directory the sandbox's tools may write in (mounted at /k), named `prefix` + random. */
async function sandboxScratch(prefix: string): Promise<string> {
  const dir = await fs.mkdtemp(prefix);
  await fs.chmod(dir, 0o755);
  if (process.getuid?.() === 0) await fs.chown(dir, SANDBOX_UID, SANDBOX_UID);
  else await fs.chmod(dir, 0o777);
  return dir;
}

export class KernelSetStore {
  private building = new Map<string, Promise<KernelSet>>();
  /** Sets whose PCH record was found current: a job does not read it again. */
  private stampedCurrent = new Set<string>();
  private readonly lbcPchs: LbcPchStore;
  readonly root: string;

  constructor(private readonly options: KernelSetStoreOptions) {
    this.root = join(options.dataDir, 'kernelsets');
    this.lbcPchs = new LbcPchStore({
      docker: options.docker,
      image: options.image,
      limits: { ...options.limits, cpuSeconds: this.cpuSeconds },
      headerDir: options.headerDir ?? LBC_HEADER_DIR,
      timeoutMs: this.timeoutMs,
    });
  }

  /** lbc.h precompiled on this set's vmlinux.h.pch for `arch` (built on first use); undefined without one. */
  async lbcPch(set: KernelSet, arch: string): Promise<LbcPch | undefined> {
    return set.hasPch ? this.lbcPchs.get(set.dir, arch) : undefined;
  }

  private get cpuSeconds(): number {
    return this.options.buildCpuSeconds ?? KERNEL_SET_CPU_SECONDS;
  }

  private get timeoutMs(): number {
    return this.options.buildTimeoutMs ?? KERNEL_SET_TIMEOUT_MS;
  }

  dirFor(btfSha256: string): string {
    return join(this.root, btfSha256, toolchainShort(this.options.toolchain));
  }

  /** The built set, when its header's record names today's PCH_FLAGS. */
  private async ready(btfSha256: string): Promise<KernelSet | undefined> {
    const dir = this.dirFor(btfSha256);
    if (!existsSync(join(dir, KERNEL_HEADER)) || !(await this.pchCurrent(dir))) return undefined;
    return { dir, hasPch: existsSync(join(dir, KERNEL_PCH)) };
  }

  private async pchCurrent(dir: string): Promise<boolean> {
    if (this.stampedCurrent.has(dir)) return true;
    const stamp = await readSandboxOutput(join(dir, PCH_STAMP), 4096);
    if (!stamp.ok || stamp.bytes.toString('utf8') !== pchStamp()) return false;
    this.stampedCurrent.add(dir);
    return true;
  }

  /** The most recently built set of this toolchain, to start warm containers for at startup. */
  async mostRecent(): Promise<string | undefined> {
    const shas = await fs.readdir(this.root).catch(() => [] as string[]);
    let best: { dir: string; mtime: number } | undefined;
    for (const sha of shas) {
      const dir = this.dirFor(sha);
      const stat = await fs.stat(join(dir, KERNEL_HEADER)).catch(() => undefined);
      if (stat && (!best || stat.mtimeMs > best.mtime)) best = { dir, mtime: stat.mtimeMs };
    }
    return best?.dir;
  }

  async ensure(btfSha256: string): Promise<KernelSet> {
    const done = await this.ready(btfSha256);
    if (done) return done;
    // The same BTF fails the same way: refuse at once rather than spin the tool again.
    const failed = await kernelSetFailure(this.options.redis, btfSha256, this.options.toolchain);
    if (failed) throw failed;
    let pending = this.building.get(btfSha256);
    if (!pending) {
      pending = (async () => {
        await fs.mkdir(join(this.root, btfSha256), { recursive: true });
        return withBuildLock(`${this.dirFor(btfSha256)}.lock`, async () => {
          const built = await this.ready(btfSha256);
          if (built) return built;
          // Made before its PCH flags were recorded, or with other flags: its header is made again.
          if (existsSync(join(this.dirFor(btfSha256), KERNEL_HEADER))) return this.remakePch(btfSha256);
          return this.build(btfSha256);
        });
      })();
      this.building.set(btfSha256, pending);
      pending.finally(() => this.building.delete(btfSha256)).catch(() => {});
    }
    return pending;
  }

  private async build(btfSha256: string): Promise<KernelSet> {
    const btf = await getSharedBtf(this.options.blobs, btfSha256);
    // Missing BTF is an infrastructure fault (the API registers it before queueing): retry later.
    if (!btf) throw new LbcError('LBC_ERR_KERNEL_UNKNOWN', `BTF ${btfSha256} is in no node's blob store`, { btfSha256 });
    const actual = createHash('sha256').update(btf).digest('hex');
    if (actual !== btfSha256) throw new LbcError('LBC_ERR_BTF_HASH_MISMATCH', `stored BTF hashes to ${actual}`, { btfSha256 });

    const final = this.dirFor(btfSha256);
    const tmp = await sandboxScratch(`${final}.tmp-`);
    try {
      await fs.writeFile(join(tmp, 'vmlinux.btf'), btf, { mode: 0o644 });

      const dump = await this.runInSandbox(tmp, `bpftool btf dump file ${SANDBOX_KERNEL}/vmlinux.btf format c > ${SANDBOX_KERNEL}/${KERNEL_HEADER}`);
      // Killed by the engine or another process: the BTF is not to blame, and the job runs again.
      if (dump.killedOutside) throw new LbcError('LBC_ERR_SANDBOX', `the vmlinux.h dump of BTF ${btfSha256} was killed from outside after ${Math.round(dump.ms)} ms`, { btfSha256 });
      if (dump.exitCode !== 0 || dump.timedOut) {
        const why = dump.cpuLimited
          ? `used its ${this.cpuSeconds} s of CPU`
          : dump.timedOut
            ? `did not finish within ${Math.round(this.timeoutMs / 1000)} s`
            : dump.oomKilled
              ? 'ran out of memory'
              : `exited with status ${dump.exitCode}${dump.stderr.trim() ? `: ${dump.stderr.trim().slice(0, 300)}` : ''}`;
        const message = `bpftool btf dump of kernel ${btfSha256} ${why}`;
        // bpftool refusing the BTF says it is invalid; a limit hit says the tool could not finish on it.
        const code = dump.cpuLimited || dump.timedOut || dump.oomKilled ? 'LBC_ERR_KERNEL_SET_FAILED' : 'LBC_ERR_BTF_INVALID';
        await rememberKernelSetFailure(this.options.redis, btfSha256, this.options.toolchain, message, code);
        throw new LbcError(code, message, { btfSha256 });
      }
      await this.makePch(tmp);
      try {
        await fs.rename(tmp, final);
      } catch (err) {
        // Another host process finished the same set first: theirs is as good as ours.
        if (!(await this.ready(btfSha256))) throw err;
      }
    } finally {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
    return (await this.ready(btfSha256))!;
  }

  /**
   * vmlinux.h.pch and its record in `dir` (mounted at /k: compiles see the header at that very
   * path). A header clang cannot make (its limits) is recorded as made without one; a run killed
   * from outside is no answer and throws, so the job runs again.
   */
  private async makePch(dir: string): Promise<void> {
    const pch = await this.runInSandbox(dir, `clang ${PCH_FLAGS.join(' ')} -x c-header ${SANDBOX_KERNEL}/${KERNEL_HEADER} -o ${SANDBOX_KERNEL}/${KERNEL_PCH}`);
    if (pch.killedOutside) throw new LbcError('LBC_ERR_SANDBOX', `precompiling vmlinux.h was killed from outside after ${Math.round(pch.ms)} ms`);
    if (pch.exitCode !== 0) await fs.rm(join(dir, KERNEL_PCH), { force: true });
    // The sandbox wrote in this directory: whatever it left at the record's name goes first, and
    // the record is a new file (O_EXCL), never written through a link.
    const stamp = join(dir, PCH_STAMP);
    await fs.rm(stamp, { force: true, recursive: true });
    writeNew(stamp, pchStamp());
  }

  /**
   * A built set's header made again with today's flags: in a directory of its own beside the set
   * (the sandbox writes nowhere else) from a copy of vmlinux.h with its time kept (clang checks the
   * header's time against the one its PCH recorded), then moved in by rename, the record last. The
   * precompiled lbc.h files were chained on the old header: they go, and are made again on use.
   */
  private async remakePch(btfSha256: string): Promise<KernelSet> {
    const dir = this.dirFor(btfSha256);
    const tmp = await sandboxScratch(`${dir}.pch-`);
    try {
      await fs.cp(join(dir, KERNEL_HEADER), join(tmp, KERNEL_HEADER), { preserveTimestamps: true });
      await this.makePch(tmp);
      if (existsSync(join(tmp, KERNEL_PCH))) await fs.rename(join(tmp, KERNEL_PCH), join(dir, KERNEL_PCH));
      else await fs.rm(join(dir, KERNEL_PCH), { force: true });
      await this.lbcPchs.removeAll(dir);
      await fs.rename(join(tmp, PCH_STAMP), join(dir, PCH_STAMP));
    } finally {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
    return (await this.ready(btfSha256))!;
  }

  private async runInSandbox(dir: string, script: string) {
    const container = await SandboxContainer.start(this.options.docker, {
      image: this.options.image,
      // `read` waits for the (empty) input so the run follows the same protocol as compiles.
      cmd: ['sh', '-c', `read -r _ ; ${script}`],
      workingDir: SANDBOX_KERNEL,
      mounts: [{ host: dir, container: SANDBOX_KERNEL, writable: true }],
      labels: ownerLabels('kernel-set'),
      limits: { ...this.options.limits, maxFileBytes: 1024 * 1024 * 1024, cpuSeconds: this.cpuSeconds },
    });
    try {
      return await container.run('\n', this.timeoutMs);
    } finally {
      await container.destroy();
    }
  }
}
