/**
 * The container options every sandboxed process runs with. One place, so a reviewer can read the
 * whole sandbox policy at once and tests can assert it on a live container.
 */
import { readdirSync } from 'node:fs';
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
 * /proc entries that describe the host rather than the sandboxed process: its kernel (cmdline,
 * config.gz, version, kallsyms, modules, sys/), hardware (cpuinfo, iomem, interrupts, ...), load
 * and other tenants' activity (stat, loadavg, pressure, locks, ...). Everything at /proc's top
 * level but the process's own directories (pid dirs, self, thread-self) and the symlinks into them
 * (mounts, net: the container's own namespaces). A source may `#embed "/proc/cmdline"` (clang 19),
 * so what the compile can read lands in its object. clang itself needs /proc (it reads its
 * response file through /dev/stdin, a link into /proc/self/fd, and finds its headers through
 * /proc/self/exe), so /proc stays, emptied of the host.
 */
const HOST_PROC_ENTRIES = [
  'acpi', 'asound', 'bootconfig', 'buddyinfo', 'bus', 'cgroups', 'cmdline', 'config.gz', 'consoles', 'cpuinfo',
  'crypto', 'devices', 'diskstats', 'dma', 'driver', 'dynamic_debug', 'execdomains', 'fb', 'filesystems', 'fs',
  'interrupts', 'iomem', 'ioports', 'irq', 'kallsyms', 'kcore', 'key-users', 'keys', 'kmsg', 'kpagecgroup',
  'kpagecount', 'kpageflags', 'kpageidle', 'latency_stats', 'loadavg', 'lockdep', 'lockdep_chains', 'lockdep_stats',
  'locks', 'mdstat', 'meminfo', 'misc', 'modules', 'mtrr', 'pagetypeinfo', 'partitions', 'pressure', 'sched_debug',
  'schedstat', 'scsi', 'slabinfo', 'softirqs', 'spl', 'stat', 'swaps', 'sys', 'sysrq-trigger', 'sysvipc',
  'timer_list', 'timer_stats', 'tty', 'uptime', 'version', 'version_signature', 'vmallocinfo', 'vmcore', 'vmstat',
  'xen', 'zoneinfo',
];

/**
 * The list above, plus whatever else this kernel puts at /proc's top level (a newer kernel's or a
 * vendor's own entries): the worker runs on the kernel its engine runs containers on.
 */
function hostProcEntries(): string[] {
  let local: string[] = [];
  try {
    local = readdirSync('/proc', { withFileTypes: true })
      .filter((e) => !e.isSymbolicLink() && !/^\d+$/.test(e.name))
      .map((e) => e.name);
  } catch {
    // No /proc here (another OS): the list alone.
  }
  return [...new Set([...HOST_PROC_ENTRIES, ...local])].sort();
}

/**
 * Docker's default masked paths are among the above; also all of /sys (host hardware and kernel
 * details), the resolver configuration the engine copies from the host, and what pid 1 can read
 * about where it runs: its mount tables (they name the host directories behind the bind mounts),
 * environment, cgroup paths and scheduler details. The sandboxed command runs as pid 1 (it is
 * exec'd, never forked), so /proc/self is /proc/1.
 */
export const MASKED_PATHS = [
  ...hostProcEntries().map((e) => `/proc/${e}`),
  '/sys',
  '/etc/resolv.conf',
  ...['/proc/1', '/proc/1/task/1'].flatMap((p) =>
    ['mountinfo', 'mounts', 'mountstats', 'environ', 'cgroup', 'cpuset', 'sched', 'autogroup'].map((f) => `${p}/${f}`),
  ),
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
