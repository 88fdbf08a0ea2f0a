/**
 * One lab test's guests, set up the same way in every file: the kernels it runs on (all of them, or
 * those LBC_LAB_KERNELS names while working on the lab), a scratch directory with the client cache
 * the guests read, one run archive per architecture with the checks to run, every kernel booted once
 * (run-lab.ts), and the records looked up per kernel with what went wrong said in the failure.
 * LBC_LAB_DEBUG=1 prints every guest's timings and records.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Arch } from '@lbc/contract';
import { labKernelSpecs, requireLabKernels, type LabKernel } from '@lbc/core/lab';
import { writeLabPayload } from './lab-payload.ts';
import { bootLabKernels, type CheckRecord, type KernelRun } from './run-lab.ts';

/** The kernels a lab test runs on: `all` (every lab kernel by default), or LBC_LAB_KERNELS=id,id. */
export function labKernelIds(all: readonly string[] = labKernelSpecs().map((k) => k.id)): string[] {
  return process.env.LBC_LAB_KERNELS?.split(',') ?? [...all];
}

export interface LabScratch {
  kernels: LabKernel[];
  /** A directory of this file's own, removed after it. */
  scratch: string;
  /** The client cache the guests read (LBC_CACHE), inside `scratch`. */
  cacheDir: string;
}

export interface BootOptions {
  /** Check names (guest/checks.mjs or `script`'s), run in order in one boot. */
  checks: readonly string[];
  /** Where the programs' sources are (see writeLabPayload). */
  programsDir?: string;
  /** Another checks script in place of guest/checks.mjs. */
  script?: string;
  timeoutMs?: number;
  /** Kernel arguments added to the lab's own (e.g. an lsm= list). */
  append?: string;
}

export interface LabGuestsOptions extends BootOptions {
  /** mkdtemp prefix of the scratch directory. */
  prefix: string;
  kernelIds: readonly string[];
  /** Before the guests boot: compile what they load into `cacheDir`. */
  prepare: (lab: LabScratch) => Promise<void>;
  /** After they ran: boot some again (lab.boot), or anything else that needs the first runs. */
  after?: (lab: LabGuests) => Promise<void>;
  /** The hook's time limit (all compiles and boots). */
  hookTimeoutMs: number;
}

export interface LabGuests extends LabScratch {
  /** Each kernel's run by id, once the suite's beforeAll has run. */
  runs: Map<string, KernelRun>;
  /** Boots `kernels` again with other checks or kernel arguments (a payload per architecture). */
  boot(kernels: readonly LabKernel[], options: BootOptions): Promise<KernelRun[]>;
  /** The kernel's record of check `name` (it must have one); its guest's failure is thrown. */
  record(id: string, name: string, from?: Map<string, KernelRun>): CheckRecord;
  /** record(), and the check must have passed. */
  check(id: string, name: string, from?: Map<string, KernelRun>): CheckRecord;
}

/**
 * Registers the suite's beforeAll (the kernels, a scratch directory, then `setup`) and afterAll
 * (the directory removed). Kernels missing from the lab fail the file with the setup command.
 */
export function useLabScratch(options: { prefix: string; kernelIds: readonly string[]; hookTimeoutMs: number; setup: (lab: LabScratch) => Promise<void> }): LabScratch {
  const lab: LabScratch = { kernels: [], scratch: '', cacheDir: '' };
  beforeAll(async () => {
    lab.kernels = requireLabKernels(options.kernelIds);
    lab.scratch = mkdtempSync(join(tmpdir(), options.prefix));
    lab.cacheDir = join(lab.scratch, 'cache');
    mkdirSync(lab.cacheDir);
    await options.setup(lab);
  }, options.hookTimeoutMs);
  afterAll(() => {
    if (lab.scratch) rmSync(lab.scratch, { recursive: true, force: true });
  });
  return lab;
}

/** useLabScratch whose setup is: prepare, write the run archives, boot every kernel once, after. */
export function useLabGuests(options: LabGuestsOptions): LabGuests {
  let boots = 0;
  const scratch = useLabScratch({
    ...options,
    setup: async () => {
      await options.prepare(lab);
      for (const r of await lab.boot(lab.kernels, options)) lab.runs.set(r.kernel.id, r);
      await options.after?.(lab);
    },
  });
  const lab: LabGuests = {
    get kernels() {
      return scratch.kernels;
    },
    get scratch() {
      return scratch.scratch;
    },
    get cacheDir() {
      return scratch.cacheDir;
    },
    runs: new Map(),
    async boot(kernels, { checks, programsDir, script, timeoutMs = 150_000, append }) {
      const payloads: Partial<Record<Arch, string>> = {};
      const boot = boots++;
      for (const arch of new Set(kernels.map((k) => k.arch))) {
        payloads[arch] = join(lab.scratch, `payload-${boot}-${arch}.cpio`);
        await writeLabPayload(payloads[arch], lab.cacheDir, checks, arch, { programsDir, script });
      }
      const runs = await bootLabKernels(kernels, payloads, timeoutMs, append);
      if (process.env.LBC_LAB_DEBUG) {
        for (const r of runs) console.log(r.kernel.id, append ?? '', r.error ?? [r.run!.initMs, r.run!.doneMs, r.run!.wallMs], JSON.stringify(r.run?.records, null, 1));
      }
      return runs;
    },
    record(id, name, from = lab.runs) {
      const r = from.get(id);
      expect(r, `${id}: not booted`).toBeDefined();
      if (r!.error) throw r!.error;
      const rec = r!.checks.get(name);
      expect(rec, `${id}: no record for ${name}; console tail:\n${r!.run!.console.slice(-30).join('\n')}`).toBeDefined();
      return rec!;
    },
    check(id, name, from) {
      const rec = lab.record(id, name, from);
      expect(rec.ok, `${id} ${name}: ${JSON.stringify(rec).slice(0, 4000)}`).toBe(true);
      return rec;
    },
  };
  return lab;
}
