import type { HeaderRequest, JobProgress, JobStatus } from '@lbc/contract';
import type { DetectedTarget } from './target/detect-target.ts';

export interface LbcOptions {
  /** Service URL; default LBC_SERVER, else http://127.0.0.1:8080. */
  server?: string;
  /** Bearer token for a service that requires one; default LBC_TOKEN. */
  token?: string;
  /** -DNAME[=VALUE] / -UNAME only. */
  cflags?: readonly string[];
  /** pylcc's name for cflags: a string ("-DLBC_DEBUG -DX=1") or a list. */
  env?: string | readonly string[];
  /** Attach every program by its section name once loaded (default true). */
  attach?: boolean;
  /**
   * false: `ready` resolves with the object opened but not loaded, to set constants
   * (`lbc.rodata.NAME = v`), programs and maps up; then `await lbc.load()` and `await lbc.attach()`.
   */
  load?: boolean;
  /**
   * Before load, turn off the side of each program twin this kernel cannot run (fentry/fexit vs
   * their kprobe/tracepoint twin; see client/src/programs/fallbacks.ts). Default true.
   */
  fallbacks?: boolean;
  /** Twins the names and sections do not reveal: { trampoline program: its fallback program }. */
  twins?: Record<string, string>;
  /** Extra headers, relative path → text, sent with the source. */
  includes?: Record<string, string>;
  /** Directories searched for the source's quoted #include files (after the source's own directory). */
  includePaths?: readonly string[];
  /** Local object cache; default LBC_CACHE, else ~/.cache/lbc. */
  cacheDir?: string;
  /** BTF for libbpf's CO-RE relocations, for kernels without /sys/kernel/btf/vmlinux. */
  btfCustomPath?: string;
  /** Where `<name>.bpf.c` and local headers are looked up; default process.cwd(). */
  cwd?: string;
  /** Compile for this target instead of the running kernel (tests, cross-checks). */
  target?: DetectedTarget;
  /**
   * The kernel header the service compiles against: 'auto' (default: a CO-RE program once per
   * arch against the newest header, else this kernel's own), 'core', or 'kernel' (this kernel's own).
   */
  header?: HeaderRequest;
  onProgress?: (progress: JobProgress, state: JobStatus['state']) => void;
}

/** cflags and env together, env split on whitespace like a shell would for plain -D flags. */
export function optionCflags(options: LbcOptions): string[] {
  if (options.env !== undefined && typeof options.env !== 'string' && !Array.isArray(options.env)) {
    throw new TypeError(`env: pylcc's flags as a string ("-DX=1 -DY") or a list of them, got ${options.env === null ? 'null' : typeof options.env}`);
  }
  if (options.cflags !== undefined && !Array.isArray(options.cflags)) throw new TypeError(`cflags: a list of -DNAME[=VALUE] / -UNAME flags, got ${typeof options.cflags}`);
  const env = options.env === undefined ? [] : typeof options.env === 'string' ? options.env.split(/\s+/).filter(Boolean) : options.env;
  return [...(options.cflags ?? []), ...env];
}
