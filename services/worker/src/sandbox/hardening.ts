/**
 * The container options every sandboxed process runs with. One place, so a reviewer can read the
 * whole sandbox policy at once and tests can assert it on a live container.
 */
import type Dockerode from 'dockerode';

export interface SandboxLimits {
  /** CPU seconds (RLIMIT_CPU): clang is killed by SIGXCPU beyond it. */
  cpuSeconds: number;
  /** Largest file a sandboxed process may write (RLIMIT_FSIZE): bounds what reaches the host disk. */
  maxFileBytes: number;
  memoryBytes: number;
  pids: number;
}

export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
  cpuSeconds: 30,
  maxFileBytes: 64 * 1024 * 1024,
  memoryBytes: 512 * 1024 * 1024,
  pids: 64,
};

/** Labels that tie a container to the worker process owning it, so leftovers of dead workers can be found. */
export const LABEL_ROLE = 'lbc.role';
export const LABEL_HOST = 'lbc.owner.host';
export const LABEL_PID = 'lbc.owner.pid';
/** The owner's pid namespace: its pid can be judged only from the same one (owner-alive.ts). */
export const LABEL_PIDNS = 'lbc.owner.pidns';
export const LABEL_JOB_DIR = 'lbc.jobdir';

export interface Mount {
  host: string;
  container: string;
  writable: boolean;
}

/**
 * Docker's default masked paths, plus all of /sys (host hardware and kernel details) and the mount
 * tables of pid 1 (they name the host directories behind the bind mounts). The sandboxed command
 * runs as pid 1 (it is exec'd, never forked), so /proc/self is /proc/1.
 */
const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys',
  ...['/proc/1', '/proc/1/task/1'].flatMap((p) => [`${p}/mountinfo`, `${p}/mounts`, `${p}/mountstats`, `${p}/environ`]),
];

/** What one sandboxed process is: its command, its mounts, its labels, its limits. */
export interface SandboxSpec {
  image: string;
  cmd: string[];
  workingDir: string;
  mounts: Mount[];
  labels: Record<string, string>;
  limits: SandboxLimits;
}

export function hardenedContainerOptions(opts: SandboxSpec): Dockerode.ContainerCreateOptions {
  const { limits } = opts;
  return {
    Image: opts.image,
    Cmd: opts.cmd,
    Entrypoint: [],
    WorkingDir: opts.workingDir,
    User: '65534:65534',
    // Nothing from the host's environment: PATH only.
    Env: ['PATH=/usr/lib/llvm-19/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C'],
    Labels: opts.labels,
    NetworkDisabled: true,
    Hostname: 'sandbox',
    // The command reads its arguments from stdin, so a warm container waits without doing anything.
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: limits.pids,
      Memory: limits.memoryBytes,
      MemorySwap: limits.memoryBytes,
      NanoCpus: 1e9,
      Ulimits: [
        { Name: 'cpu', Soft: limits.cpuSeconds, Hard: limits.cpuSeconds },
        { Name: 'fsize', Soft: limits.maxFileBytes, Hard: limits.maxFileBytes },
        { Name: 'core', Soft: 0, Hard: 0 },
        { Name: 'nofile', Soft: 256, Hard: 256 },
      ],
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,noexec,size=64m' },
      Binds: opts.mounts.map((m) => `${m.host}:${m.container}:${m.writable ? 'rw' : 'ro'}`),
      MaskedPaths: MASKED_PATHS,
      // Output is read through the attach stream; nothing is kept in the engine's log files.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
      Privileged: false,
      IpcMode: 'private',
    },
  };
}
