/** Request and response shapes of the /v1 API, shared by the service, the CLI and the client. */

export type Arch = 'x86_64' | 'aarch64';

export interface CompileTarget {
  /** `uname -r` of the target, e.g. "6.1.0-50-cloud-amd64". */
  release: string;
  /**
   * Absent: the release on whichever architecture the service has it for (a release known for
   * several is LBC_ERR_KERNEL_AMBIGUOUS, naming them).
   */
  arch?: Arch;
  /** sha256 of the target's raw BTF (/sys/kernel/btf/vmlinux). Picks the kernel set exactly. */
  btfSha256?: string;
  /** ID from /etc/os-release, e.g. "debian". */
  distro?: string;
}

export interface CompileRequest {
  /** Program name; the main file is `${name}.bpf.c` in diagnostics. */
  name: string;
  source: string;
  /** Relative path → text, for the program's own `#include "x.h"`. */
  includes?: Record<string, string>;
  /** Allow-listed: -DNAME[=VALUE], -UNAME. */
  cflags?: string[];
  target: CompileTarget;
  /** How long the request may wait for the compile before answering 202. */
  waitMs?: number;
  /**
   * Also produce the object's minimized BTF (`bpftool gen min_core_btf`: only the types its CO-RE
   * relocations touch), for a target kernel without /sys/kernel/btf/vmlinux.
   */
  minBtf?: boolean;
  /**
   * Which kernel header the program is compiled against (see HeaderMode). 'auto' (the default):
   * once per arch against the newest header when the source is CO-RE, else the target's own;
   * 'core': the newest header whatever the source does; 'kernel': the target's own header.
   */
  header?: HeaderRequest;
}

export type HeaderRequest = 'auto' | 'core' | 'kernel';

/**
 * 'core': compiled once for the arch, against the newest kernel header the service trusts; the
 * object's CO-RE relocations fit it to each kernel at load. 'kernel': compiled against the target
 * kernel's own header (one object per kernel).
 */
export type HeaderMode = 'core' | 'kernel';

/** The kernel header an object was built against, and why that one. */
export interface HeaderInfo {
  /** The BTF the vmlinux.h was dumped from (part of the cache key). */
  btfSha256: string;
  release: string;
  arch: Arch;
  mode: HeaderMode;
  /** Why the target's own header was used (mode 'kernel'), in words. */
  reason?: string;
}

export interface ArtifactRef {
  sha256: string;
  size: number;
  /** Relative URL: /v1/artifacts/<sha256>. */
  url: string;
}

/** 200 answer of POST /v1/compile and result of a finished job. */
export interface CompileResult {
  artifact: ArtifactRef;
  cacheKey: string;
  cached: boolean;
  /** Compiler warnings, as clang prints them, with the user's file names. */
  warnings: string;
  /** The target kernel the request named (with mode 'core' the object serves every kernel of its arch). */
  kernel: KernelInfo;
  /** The header the object was built against: the target's own, or the arch's newest (CO-RE). */
  header: HeaderInfo;
  /** Set when the service supplies BTF the client should pass to libbpf as btf_custom_path. */
  btfUrl?: string;
  /** With `minBtf` in the request: the object's minimized BTF (a small fraction of btfUrl's), for btf_custom_path. */
  minBtf?: ArtifactRef;
}

/** 202 answer of POST /v1/compile. */
export interface CompileAccepted {
  jobId: string;
  url: string;
  cacheKey: string;
  /**
   * The header the job compiles against. A 'core' job that ends in LBC_ERR_COMPILE is asked for
   * again: the service then compiles against the target's own header (it remembers the failure).
   */
  header?: HeaderInfo;
}

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed' | 'unknown';

export interface JobProgress {
  stage: 'queued' | 'kernel-set' | 'compiling' | 'storing' | 'done';
  percent: number;
}

export interface JobStatus {
  id: string;
  state: JobState;
  progress: JobProgress;
  result?: CompileResult;
  error?: import('./errors.ts').ErrorBody['error'];
}

export interface KernelInfo {
  btfSha256: string;
  release: string;
  arch: Arch;
  distro: string;
  /** Where the kernel set came from: 'host', 'upload', 'package'. */
  source: string;
  btfSize: number;
  createdAt: string;
  /**
   * False for an upload by a non-admin under a release another kernel already held: it is reachable
   * by its btfSha256 only, never by the release name (host and package kernels, and admins, win).
   */
  answersForRelease: boolean;
  /** The kernel set holds the image a VM boots (ingested from a kernel image package). */
  bootable: boolean;
  /** That image (vmlinuz, arm64 Image), content-addressed. */
  bootImage?: BootImageRef;
}

export interface BootImageRef {
  sha256: string;
  size: number;
}

export interface KernelUploadQuery {
  release: string;
  arch: Arch;
  distro?: string;
}

export interface Limits {
  maxSourceBytes: number;
  maxIncludes: number;
  maxIncludeBytes: number;
  maxCflags: number;
  maxBtfBytes: number;
  maxWaitMs: number;
  maxArtifactBytes: number;
}
