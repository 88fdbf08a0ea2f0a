/**
 * lbc.h precompiled on top of a kernel set's vmlinux.h.pch (a chained PCH). Most of what clang
 * does for a small lbc.h program is reading lbc.h's own includes (bpf_helpers.h, bpf_tracing.h,
 * ...): starting from this header instead saves it ~10 ms, with a byte-identical object.
 *
 * It is built once per (kernel set's vmlinux.h.pch, lbc.h, arch, compile flags), in a single-use
 * sandbox container like the kernel set itself, and kept in the kernel set's directory under a
 * name made of all four: a new lbc.h, new flags or a header made again never meet an old one.
 * Beside it, the headers it was built from (clang's dependency list), so a compile whose uploaded
 * files could stand in for one of them does not use it. A build that fails leaves a marker and
 * compiles go on without it.
 */
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Dockerode from 'dockerode';
import { stageMark } from '@lbc/core';
import type { SandboxLimits } from '../sandbox/hardening.ts';
import { createJobDir, readObject, removeJobDir } from '../sandbox/job-dir.ts';
import { SandboxContainer } from '../sandbox/sandbox-container.ts';
import { ownerLabels, SANDBOX_KERNEL, SANDBOX_LBC, SANDBOX_OUT, SANDBOX_SRC } from '../sandbox/warm-pool.ts';
import { baseArgs, KERNEL_PCH, SANDBOX_KERNEL_PCH } from '../compile/clang-args.ts';
import { withBuildLock } from './build-lock.ts';

export interface LbcPch {
  /** The header as compiles see it (in the kernel set, mounted at /k). */
  sandboxPath: string;
  /** Every file it was built from, as paths inside the sandbox (/lbc/lbc.h, /usr/include/bpf/...). */
  inputs: string[];
}

export interface LbcPchOptions {
  docker: Dockerode;
  image: string;
  limits: SandboxLimits;
  /** The lbc.h directory compiles mount at /lbc: the header is built from the very same files. */
  headerDir: string;
  timeoutMs: number;
}

/** A precompiled lbc.h is ~200 KB; anything far beyond it is refused. */
const MAX_PCH_BYTES = 64 * 1024 * 1024;
const MAX_DEPS_BYTES = 64 * 1024;

/** clang's command line for it: the compile's own flags, then the kernel set's PCH and lbc.h as a header. */
export function lbcPchArgs(arch: string): string[] {
  return [
    ...baseArgs(arch),
    '-include-pch',
    SANDBOX_KERNEL_PCH,
    '-x',
    'c-header',
    `${SANDBOX_LBC}/lbc.h`,
    '-o',
    `${SANDBOX_OUT}/lbc.pch`,
    '-MD',
    '-MF',
    `${SANDBOX_OUT}/lbc.d`,
  ];
}

/** The prerequisites of a make-style dependency file (clang -MD), in order. */
export function parseDeps(text: string): string[] {
  const words = text.replace(/\\\n/g, ' ').trim().split(/\s+/);
  return words.slice(1).filter((w) => w !== '');
}

/**
 * Whether an uploaded file could be found instead of one the header was built from: clang searches
 * the job's own directory first, so an upload named `lbc.h` or `bpf/bpf_helpers.h` takes the
 * place of the toolchain's, and lbc.h would no longer expand to what was precompiled.
 */
export function uploadsShadow(inputs: readonly string[], uploads: Iterable<string>): boolean {
  for (const upload of uploads) {
    const name = upload.replace(/^(\.\/)+/, '');
    if (inputs.some((input) => input === name || input.endsWith(`/${name}`))) return true;
  }
  return false;
}

/**
 * Names what the header depends on outside the kernel set: lbc.h's bytes, its size and mtime
 * (clang refuses a PCH whose input files' mtimes changed), the arch and the flags.
 */
export function lbcPchKey(headerDir: string, arch: string): string {
  const header = join(headerDir, 'lbc.h');
  const stat = statSync(header);
  return createHash('sha256')
    .update(JSON.stringify([lbcPchArgs(arch), stat.size, stat.mtimeMs]))
    .update(readFileSync(header))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The kernel set's vmlinux.h.pch a header is chained on, by size and time: part of the header's
 * name, so a header made again (kernel-set.ts, other flags) never meets one chained on the old,
 * even one a worker still building on the old finishes after the swap.
 */
function chainedOn(kernelSetDir: string): string {
  const { size, mtimeMs } = statSync(join(kernelSetDir, KERNEL_PCH));
  return createHash('sha256').update(`${size}:${mtimeMs}`).digest('hex').slice(0, 8);
}

export class LbcPchStore {
  private building = new Map<string, Promise<LbcPch | undefined>>();
  /** lbcPchKey per arch, for the lbc.h of that size and time: not read and hashed for every job. */
  private keys = new Map<string, { size: number; mtimeMs: number; key: string }>();
  /**
   * Headers found built: a built one never changes (its name is its inputs' hash), so a job only
   * checks that it is still there (a kernel set removed meanwhile) instead of reading its deps file.
   */
  private found = new Map<string, LbcPch>();

  constructor(private readonly options: LbcPchOptions) {}

  private keyFor(arch: string): string {
    const { size, mtimeMs } = statSync(join(this.options.headerDir, 'lbc.h'));
    const known = this.keys.get(arch);
    if (known && known.size === size && known.mtimeMs === mtimeMs) return known.key;
    const key = lbcPchKey(this.options.headerDir, arch);
    this.keys.set(arch, { size, mtimeMs, key });
    return key;
  }

  /**
   * The precompiled lbc.h of a kernel set (which must have its vmlinux.h.pch) for an arch: built
   * now when it is not there yet, undefined when it cannot be built.
   */
  async get(kernelSetDir: string, arch: string): Promise<LbcPch | undefined> {
    const base = join(kernelSetDir, `lbc-${arch}-${this.keyFor(arch)}-${chainedOn(kernelSetDir)}`);
    const known = this.found.get(base);
    if (known && existsSync(`${base}.pch`)) return known;
    this.found.delete(base);
    const done = await this.ready(base);
    if (done) this.found.set(base, done);
    if (done !== null) return done;
    let pending = this.building.get(base);
    if (!pending) {
      pending = withBuildLock(`${base}.lock`, async () => {
        const again = await this.ready(base);
        return again === null ? this.build(kernelSetDir, base, arch) : again;
      });
      this.building.set(base, pending);
      pending.finally(() => this.building.delete(base)).catch(() => {});
    }
    return pending;
  }

  /**
   * Every header of a kernel set, built or failed (its vmlinux.h.pch was made again: they were
   * chained on the old one), removed; the next compile builds its own.
   */
  async removeAll(kernelSetDir: string): Promise<void> {
    for (const name of await fs.readdir(kernelSetDir)) {
      if (/^lbc-.*\.(pch|d|failed)$/.test(name)) await fs.rm(join(kernelSetDir, name), { force: true });
    }
    for (const base of this.found.keys()) if (dirname(base) === kernelSetDir) this.found.delete(base);
  }

  /** The built header; undefined when its build failed before; null when there is none yet. */
  private async ready(base: string): Promise<LbcPch | undefined | null> {
    if (existsSync(`${base}.failed`)) return undefined;
    const deps = await fs.readFile(`${base}.d`, 'utf8').catch(() => undefined);
    if (deps === undefined || !existsSync(`${base}.pch`)) return null;
    return { sandboxPath: `${SANDBOX_KERNEL}/${basename(base)}.pch`, inputs: parseDeps(deps) };
  }

  private async build(kernelSetDir: string, base: string, arch: string): Promise<LbcPch | undefined> {
    stageMark('lbc-pch.build');
    // Beside the kernel set, not in it: the set is mounted read-only and the sandbox writes only out/.
    const job = await createJobDir(dirname(kernelSetDir));
    let container: SandboxContainer | undefined;
    try {
      container = await SandboxContainer.start(this.options.docker, {
        image: this.options.image,
        cmd: ['sh', '-c', `read -r _ ; exec clang ${lbcPchArgs(arch).join(' ')}`],
        workingDir: SANDBOX_SRC,
        // The compile's own mounts: an empty job directory, the kernel set and lbc.h read-only.
        mounts: [
          { host: job.src, container: SANDBOX_SRC, writable: false },
          { host: job.out, container: SANDBOX_OUT, writable: true },
          { host: kernelSetDir, container: SANDBOX_KERNEL, writable: false },
          { host: this.options.headerDir, container: SANDBOX_LBC, writable: false },
        ],
        labels: ownerLabels('lbc-pch', job.root),
        limits: this.options.limits,
      });
      const run = await container.run('\n', this.options.timeoutMs);
      // Killed from outside (engine restart): not the header's fault, the next compile tries again.
      if (run.killedOutside) return undefined;
      const pch = run.exitCode === 0 ? await readObject(job, 'lbc.pch', MAX_PCH_BYTES) : undefined;
      const deps = run.exitCode === 0 ? await readObject(job, 'lbc.d', MAX_DEPS_BYTES) : undefined;
      if (!pch?.ok || !deps?.ok) {
        const why = run.exitCode !== 0 ? `clang exited with ${run.exitCode}: ${run.stderr.trim().slice(-500)}` : 'clang wrote no header';
        await fs.writeFile(`${base}.failed`, `${why}\n`);
        return undefined;
      }
      // The dependency list first: the header's presence is what says the pair is complete.
      await writeAtomically(`${base}.d`, deps.bytes);
      await writeAtomically(`${base}.pch`, pch.bytes);
      stageMark('lbc-pch.built');
      return this.ready(base).then((r) => r ?? undefined);
    } finally {
      await container?.destroy();
      await removeJobDir(job.root);
    }
  }
}

async function writeAtomically(path: string, bytes: Buffer): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await fs.writeFile(tmp, bytes, { mode: 0o644 });
  await fs.rename(tmp, path);
}
