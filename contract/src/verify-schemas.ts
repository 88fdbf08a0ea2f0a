/**
 * POST /v1/verify and GET /v1/verify/:id as JSON schemas, the one definition of each (verify.ts
 * derives the types). The bounds are VERIFY_LIMITS'.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { ArchSchema, JobStateSchema, ProgramFields, RELEASE_PATTERN, WaitMsSchema } from './api-schemas.ts';
import { ErrorDetailSchema } from './error-schema.ts';
import { Dict, Matching, StringEnum } from './schema-kit.ts';
import { VERIFY_LIMITS } from './verify.ts';

/** A setup record: a name (of a variable, program or map) → its value. */
const SetupRecord = <V extends TSchema>(value: V) => Dict(value, { maxProperties: VERIFY_LIMITS.maxSetupEntries, propertyNames: { maxLength: 256 } });

/** What the client would set on the opened object before load (as `new Lbc(name, src, options)` does). */
export const VerifySetupSchema = Type.Object(
  {
    /** Initial values of `const volatile` globals (.rodata) and other globals, by variable name. */
    globals: Type.Optional(SetupRecord(Type.Union([Type.Number(), Type.String({ maxLength: 4096 }), Type.Boolean()]))),
    /** Programs turned on or off before load, by name. */
    autoload: Type.Optional(SetupRecord(Type.Boolean())),
    /** Map sizes set before load, by map name. */
    maxEntries: Type.Optional(SetupRecord(Type.Integer({ minimum: 1, maximum: 0xffffffff }))),
    /** The fentry/kprobe twin choice, as the client makes it (default true). */
    fallbacks: Type.Optional(Type.Boolean()),
    /** Explicit twins: trampoline program → the program that runs where it cannot. */
    twins: Type.Optional(SetupRecord(Type.String({ maxLength: 256 }))),
  },
  { additionalProperties: false },
);

/** Something the guest runs while the programs are attached, so that they fire. */
export const VerifyWorkloadSchema = Type.Object(
  {
    /** argv of a command in the guest's busybox userland, e.g. ["cat", "/etc/hostname"]. */
    command: Type.Array(Type.String({ minLength: 1, maxLength: VERIFY_LIMITS.maxWorkloadArgBytes }), { minItems: 1, maxItems: VERIFY_LIMITS.maxWorkloadArgs }),
    /** How many times to run it (default 1, at most 1000). */
    repeat: Type.Optional(Type.Integer({ minimum: 1, maximum: VERIFY_LIMITS.maxRepeat })),
  },
  { additionalProperties: false },
);

/** POST /v1/verify: a compile request's program fields, the kernels, and the client's setup. */
export const VerifyRequestSchema = Type.Object(
  {
    ...ProgramFields,
    /** Kernels by BTF sha256, a unique sha256 prefix, or a release (as `lbc compile --kernel`). */
    kernels: Type.Optional(Type.Array(Matching(RELEASE_PATTERN, { minLength: 4, maxLength: 128 }), { maxItems: VERIFY_LIMITS.maxKernels })),
    /** Every bootable kernel set the caller can see. One of `kernels` and `allBootable` is required. */
    allBootable: Type.Optional(Type.Boolean()),
    setup: Type.Optional(VerifySetupSchema),
    workload: Type.Optional(VerifyWorkloadSchema),
    /** How long the request may wait for every verdict before answering 202 with the job. */
    waitMs: Type.Optional(WaitMsSchema),
  },
  { additionalProperties: false },
);

export const ProgramVerdictSchema = Type.Object({
  name: Type.String(),
  /** ELF section, e.g. "kprobe/do_sys_openat2". */
  section: Type.String(),
  /** libbpf's program type name, e.g. "kprobe", "tracing". */
  type: Type.String(),
  /** False when the setup (autoload, or a twin that runs instead) turned it off before load. */
  autoload: Type.Boolean(),
  /** Set when it was turned off for its twin: which program runs instead, and why. */
  turnedOff: Type.Optional(Type.Object({ instead: Type.String(), reason: Type.String() })),
  loaded: Type.Boolean(),
  /** Instructions the verifier processed (prog info's verified_insns, where the kernel has it). */
  verifiedInstructions: Type.Optional(Type.Integer()),
  /** Instructions of the loaded program (xlated). */
  instructions: Type.Optional(Type.Integer()),
  attached: Type.Boolean(),
  /**
   * Events counted while the workload ran: the records of the ring/perf buffers the program writes
   * to (a buffer two programs share counts for both), else its run count.
   */
  events: Type.Optional(Type.Integer()),
  /** How many times the program ran while the workload ran (BPF stats' run_cnt). */
  runs: Type.Optional(Type.Integer()),
  /** Why load or attach failed, in the user's terms (errno name, what it means). */
  error: Type.Optional(Type.String()),
  /** The verifier log's last lines when load failed. */
  verifierLog: Type.Optional(Type.Array(Type.String())),
});

export const MapVerdictSchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  maxEntries: Type.Integer(),
  /** Entries found after the workload: keys of hash-like maps, non-zero values of arrays. */
  entries: Type.Optional(Type.Integer()),
  /** Ring and perf buffers: the records drained while the workload ran. */
  records: Type.Optional(Type.Integer()),
});

export const VerifyKernelRefSchema = Type.Object({ btfSha256: Type.String(), release: Type.String(), arch: ArchSchema, distro: Type.String() });

export const KernelVerdictSchema = Type.Object({
  kernel: VerifyKernelRefSchema,
  /** passed: every program meant to load loaded and attached. failed: one did not. error: no verdict (boot, compile). */
  status: StringEnum(['passed', 'failed', 'error']),
  /** The object that was tried (the farm's compile for this kernel). */
  objectSha256: Type.Optional(Type.String()),
  /** The verdict came from the cache (same object, kernel and lab version). */
  cached: Type.Boolean(),
  /** Host ms from the guest's start to its verdict (absent when cached). */
  bootMs: Type.Optional(Type.Integer()),
  programs: Type.Array(ProgramVerdictSchema),
  maps: Type.Array(MapVerdictSchema),
  /** With status 'error' (and a compile failure): the cause. */
  error: Type.Optional(ErrorDetailSchema),
});

export const VerifyResultSchema = Type.Object({
  /** True when every kernel passed. */
  ok: Type.Boolean(),
  verdicts: Type.Array(KernelVerdictSchema),
  /** Version of the lab (guest runner and userland) that produced the verdicts. */
  labVersion: Type.String(),
});

/** 202 answer of POST /v1/verify: the job to follow (GET url). */
export const VerifyAcceptedSchema = Type.Object({ jobId: Type.String(), url: Type.String() });

export const VerifyProgressSchema = Type.Object({
  stage: StringEnum(['queued', 'compiling', 'booting', 'done']),
  /** Kernels with a verdict so far, of total. */
  done: Type.Integer(),
  total: Type.Integer(),
  percent: Type.Number(),
});

/** GET /v1/verify/:id and the 202 answer's job. */
export const VerifyJobStatusSchema = Type.Object({
  id: Type.String(),
  state: JobStateSchema,
  progress: VerifyProgressSchema,
  result: Type.Optional(VerifyResultSchema),
  error: Type.Optional(ErrorDetailSchema),
});
