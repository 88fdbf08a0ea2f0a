/**
 * POST /v1/verify: will this program load, attach and run on those kernels? The farm compiles it as
 * it would for each kernel, boots each (bootable kernel sets, under QEMU in the worker's sandbox),
 * loads the object with the setup a client would apply and attaches every program.
 */
import type { Arch, CompileRequest, JobState } from './api.ts';
import type { ErrorBody } from './errors.ts';

/** What the client would set on the opened object before load (as `new Lbc(name, src, options)` does). */
export interface VerifySetup {
  /** Initial values of `const volatile` globals (.rodata) and other globals, by variable name. */
  globals?: Record<string, number | string | boolean>;
  /** Programs turned on or off before load, by name. */
  autoload?: Record<string, boolean>;
  /** Map sizes set before load, by map name. */
  maxEntries?: Record<string, number>;
  /** The fentry/kprobe twin choice, as the client makes it (default true). */
  fallbacks?: boolean;
  /** Explicit twins: trampoline program → the program that runs where it cannot. */
  twins?: Record<string, string>;
}

/** Something the guest runs while the programs are attached, so that they fire. */
export interface VerifyWorkload {
  /** argv of a command in the guest's busybox userland, e.g. ["cat", "/etc/hostname"]. */
  command: string[];
  /** How many times to run it (default 1, at most 1000). */
  repeat?: number;
}

export interface VerifyRequest extends Omit<CompileRequest, 'target' | 'waitMs' | 'minBtf'> {
  /** Kernels by BTF sha256, a unique sha256 prefix, or a release (as `lbc compile --kernel`). */
  kernels?: string[];
  /** Every bootable kernel set the caller can see. One of `kernels` and `allBootable` is required. */
  allBootable?: boolean;
  setup?: VerifySetup;
  workload?: VerifyWorkload;
  /** How long the request may wait for every verdict before answering 202 with the job. */
  waitMs?: number;
}

export interface ProgramVerdict {
  name: string;
  /** ELF section, e.g. "kprobe/do_sys_openat2". */
  section: string;
  /** libbpf's program type name, e.g. "kprobe", "tracing". */
  type: string;
  /** False when the setup (autoload, or a twin that runs instead) turned it off before load. */
  autoload: boolean;
  /** Set when it was turned off for its twin: which program runs instead, and why. */
  turnedOff?: { instead: string; reason: string };
  loaded: boolean;
  /** Instructions the verifier processed (prog info's verified_insns, where the kernel has it). */
  verifiedInstructions?: number;
  /** Instructions of the loaded program (xlated). */
  instructions?: number;
  attached: boolean;
  /**
   * Events counted while the workload ran: the records of the ring/perf buffers the program writes
   * to (a buffer two programs share counts for both), else its run count.
   */
  events?: number;
  /** How many times the program ran while the workload ran (BPF stats' run_cnt). */
  runs?: number;
  /** Why load or attach failed, in the user's terms (errno name, what it means). */
  error?: string;
  /** The verifier log's last lines when load failed. */
  verifierLog?: string[];
}

export interface MapVerdict {
  name: string;
  type: string;
  maxEntries: number;
  /** Entries found after the workload: keys of hash-like maps, non-zero values of arrays. */
  entries?: number;
  /** Ring and perf buffers: the records drained while the workload ran. */
  records?: number;
}

export interface VerifyKernelRef {
  btfSha256: string;
  release: string;
  arch: Arch;
  distro: string;
}

export interface KernelVerdict {
  kernel: VerifyKernelRef;
  /** passed: every program meant to load loaded and attached. failed: one did not. error: no verdict (boot, compile). */
  status: 'passed' | 'failed' | 'error';
  /** The object that was tried (the farm's compile for this kernel). */
  objectSha256?: string;
  /** The verdict came from the cache (same object, kernel and lab version). */
  cached: boolean;
  /** Host ms from the guest's start to its verdict (absent when cached). */
  bootMs?: number;
  programs: ProgramVerdict[];
  maps: MapVerdict[];
  /** With status 'error' (and a compile failure): the cause. */
  error?: ErrorBody['error'];
}

export interface VerifyResult {
  /** True when every kernel passed. */
  ok: boolean;
  verdicts: KernelVerdict[];
  /** Version of the lab (guest runner and userland) that produced the verdicts. */
  labVersion: string;
}

export interface VerifyProgress {
  stage: 'queued' | 'compiling' | 'booting' | 'done';
  /** Kernels with a verdict so far, of total. */
  done: number;
  total: number;
  percent: number;
}

/** GET /v1/verify/:id and the 202 answer's job. */
export interface VerifyJobStatus {
  id: string;
  state: JobState;
  progress: VerifyProgress;
  result?: VerifyResult;
  error?: ErrorBody['error'];
}

/** 202 answer of POST /v1/verify: the job to follow (GET url). */
export interface VerifyAccepted {
  jobId: string;
  url: string;
}

/** Bounds on a verify request beyond the compile limits it shares. */
export const VERIFY_LIMITS = {
  /** Kernels named in one request (allBootable takes every bootable one, however many). */
  maxKernels: 32,
  /** Names in each setup record (globals, autoload, maxEntries, twins). */
  maxSetupEntries: 256,
  /** Arguments of the workload command, and bytes of each. */
  maxWorkloadArgs: 32,
  maxWorkloadArgBytes: 4096,
  maxRepeat: 1000,
} as const;
