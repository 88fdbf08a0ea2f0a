/**
 * `lbc verify`'s guest side: one object, one bootable kernel, one verdict. The plan (what the
 * client would set up) is worked out here with the client's code; the guest boots the kernel with
 * a busybox userland and the lab runner, which loads, attaches, runs the workload and reports.
 * Rule: whatever the program does is a verdict (failed load, refused attach, no events); only a
 * guest that does not come back with one throws (LBC_ERR_GUEST_TIMEOUT / LBC_ERR_GUEST_FAILED,
 * with the console's last lines).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { LbcError, type Arch, type KernelVerdict, type MapVerdict, type ProgramVerdict, type VerifySetup, type VerifyWorkload } from '@lbc/contract';
import { bootGuest, launchQemuHere, mapBounded, pvhKernel, type GuestRun } from '@lbc/core/lab';
import { sandboxedQemu, type GuestSandbox } from './guest-sandbox.ts';
import { guestPlan } from './guest-plan.ts';
import { verifyInitrds } from './guest-image.ts';

export type GuestStage = 'booting' | 'loading' | 'workload' | 'done';
export type GuestVerdict = Omit<KernelVerdict, 'kernel' | 'cached' | 'objectSha256'>;

export interface VerifyInGuestInput {
  arch: Arch;
  /** The kernel to boot: a bzImage (x86_64) or an arm64 Image. */
  bootImage: string;
  /** The compiled object (.bpf.o) for that kernel. */
  object: Buffer;
  setup?: VerifySetup;
  workload?: VerifyWorkload;
  /** Wall limit for the guest, ms (default 120 s: a loaded 2-core host boots slowly under TCG). */
  timeoutMs?: number;
  onProgress?: (stage: GuestStage) => void;
  /**
   * Where QEMU runs: in a hardened single-use container of the lab image (the default; options
   * pick the engine, image and limits), or, with `false`, as a child process of this one.
   */
  sandbox?: GuestSandbox | false;
}

export const GUEST_DEFAULTS = { timeoutMs: 120_000, memoryMb: 256, cpus: 1 } as const;

/**
 * Boot work a verdict does not depend on, skipped: the crypto API's self-tests, the jitter entropy
 * source's start-up health test and the soft-lockup watchdog. Under TCG these took about a quarter
 * of a 6.12 kernel's boot to /init (initcall_debug: jent_mod_init alone ~1 s). loglevel=3 keeps
 * KERN_ERR lines (an RCU stall report on a starved host) off the console, where one could land in
 * the middle of the verdict's line; panics and oopses still show.
 */
export const GUEST_KERNEL_ARGS = 'cryptomgr.notests=1 initcall_blacklist=jent_mod_init nowatchdog loglevel=3';

/** What the runner prints as its verdict record (lab-runner/runner.cc). */
interface RunnerVerdict {
  programs: (ProgramVerdict & { manualAttach?: boolean })[];
  maps: (MapVerdict & { created?: boolean; lost?: number })[];
}

export async function verifyInGuest(input: VerifyInGuestInput): Promise<GuestVerdict> {
  const plan = guestPlan(input.object, input.setup, input.workload);
  const scratch = mkdtempSync(join(tmpdir(), 'lbc-verify-'));
  try {
    const initrds = await verifyInitrds(input.arch, input.object, plan, scratch);
    const kernel = input.arch === 'x86_64' ? await pvhKernel(input.bootImage) : input.bootImage;
    input.onProgress?.('booting');
    const run = await bootGuest({
      kernel: { id: basename(input.bootImage), arch: input.arch, vmlinuz: kernel },
      initrds,
      timeoutMs: input.timeoutMs ?? GUEST_DEFAULTS.timeoutMs,
      memoryMb: GUEST_DEFAULTS.memoryMb,
      cpus: GUEST_DEFAULTS.cpus,
      append: GUEST_KERNEL_ARGS,
      launch: input.sandbox === false ? launchQemuHere : sandboxedQemu(input.sandbox),
      onLine: (line) => {
        if (line.includes('"stage":"loading"')) input.onProgress?.('loading');
        else if (line.includes('"stage":"workload"')) input.onProgress?.('workload');
      },
    });
    const verdict = readVerdict(run);
    input.onProgress?.('done');
    return verdict;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The runner's verdict record from a finished guest, in the contract's shape. */
export function readVerdict(run: GuestRun): GuestVerdict {
  const at = run.records.findIndex((r) => typeof r === 'object' && r !== null && ('verdict' in r || 'fatal' in r));
  const record = run.records[at] as { verdict?: RunnerVerdict; fatal?: string } | undefined;
  if (!record?.verdict) {
    const why = record?.fatal ? `the guest runner stopped: ${record.fatal}` : `the guest finished (status ${run.exitCode}) without a verdict`;
    throw new LbcError('LBC_ERR_GUEST_FAILED', `${run.kernelId}: ${why}; console:\n${run.console.slice(-25).join('\n')}`, { kernel: run.kernelId, console: run.console.slice(-25) });
  }
  const programs = record.verdict.programs.map(({ manualAttach, ...p }) => ({ ...p, manual: manualAttach === true }));
  const failed = programs.some((p) => p.autoload && (!p.loaded || (!p.attached && !p.manual)));
  return {
    status: failed ? 'failed' : 'passed',
    bootMs: run.recordMs[at],
    programs: programs.map(({ manual: _, ...p }) => p),
    maps: record.verdict.maps.map(({ created: _c, lost: _l, ...m }) => m),
  };
}

/**
 * Several guests (kernels) at once, at most `concurrency` running (default 2: one vCPU each on a
 * 2-core host); each result is the verdict or the error that guest ended with, in input order.
 */
export function verifyEachInGuest(inputs: readonly VerifyInGuestInput[], concurrency = 2): Promise<(GuestVerdict | LbcError)[]> {
  return mapBounded(inputs, concurrency, (input) =>
    verifyInGuest(input).catch((err: unknown) => (err instanceof LbcError ? err : new LbcError('LBC_ERR_GUEST_FAILED', (err as Error).message, undefined, { cause: err }))),
  );
}
