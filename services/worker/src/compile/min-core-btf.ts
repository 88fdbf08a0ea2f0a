/**
 * A minimized BTF for one compiled object: only the kernel types its CO-RE relocations touch
 * (`bpftool gen min_core_btf`), for targets whose kernel has no /sys/kernel/btf/vmlinux; libbpf
 * takes it as btf_custom_path. bpftool parses the uploaded BTF, so it runs in its own single-use
 * sandbox container like clang: the object read-only, the kernel set read-only, one output file.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import type { SandboxLimits } from '../sandbox/hardening.ts';
import { createJobDir, readObject, removeJobDir } from '../sandbox/job-dir.ts';
import { SandboxContainer } from '../sandbox/sandbox-container.ts';
import { ownerLabels, SANDBOX_KERNEL, SANDBOX_OUT, SANDBOX_SRC } from '../sandbox/warm-pool.ts';

export interface MinBtfSettings {
  docker: Dockerode;
  image: string;
  /** Where per-run job directories are made (the worker's jobs dir: leftovers are swept from there). */
  jobsDir: string;
  limits: SandboxLimits;
  timeoutMs: number;
  /** A minimized BTF larger than this is refused (it should be a small fraction of the kernel's). */
  maxBytes: number;
}

export type MinBtfOutcome = { ok: true; bytes: Buffer; ms: number } | { ok: false; reason: string };

/** The kernel set's raw BTF, as kernel-set.ts writes it. */
const KERNEL_BTF = 'vmlinux.btf';

export async function minimizeBtf(settings: MinBtfSettings, kernelSetDir: string, object: Buffer): Promise<MinBtfOutcome> {
  const job = await createJobDir(settings.jobsDir);
  const started = performance.now();
  let container: SandboxContainer | undefined;
  try {
    await fs.writeFile(join(job.src, 'prog.bpf.o'), object, { mode: 0o644, flag: 'wx' });
    container = await SandboxContainer.start(settings.docker, {
      image: settings.image,
      cmd: ['bpftool', 'gen', 'min_core_btf', `${SANDBOX_KERNEL}/${KERNEL_BTF}`, `${SANDBOX_OUT}/min.btf`, `${SANDBOX_SRC}/prog.bpf.o`],
      workingDir: SANDBOX_SRC,
      mounts: [
        { host: job.src, container: SANDBOX_SRC, writable: false },
        { host: job.out, container: SANDBOX_OUT, writable: true },
        { host: kernelSetDir, container: SANDBOX_KERNEL, writable: false },
      ],
      labels: ownerLabels('min-btf', job.root),
      limits: settings.limits,
    });
    const run = await container.run('', settings.timeoutMs);
    if (run.timedOut || run.oomKilled || run.exitCode !== 0) {
      const why = run.timedOut ? 'timed out' : run.oomKilled ? 'ran out of memory' : `exited with ${run.exitCode}`;
      return { ok: false, reason: `bpftool gen min_core_btf ${why}: ${run.stderr.trim().split('\n').slice(-3).join(' ')}` };
    }
    const out = await readObject(job, 'min.btf', settings.maxBytes);
    if (!out.ok) return { ok: false, reason: `minimized BTF: ${out.detail}` };
    return { ok: true, bytes: out.bytes, ms: Math.round(performance.now() - started) };
  } finally {
    await container?.destroy();
    await removeJobDir(job.root);
  }
}
