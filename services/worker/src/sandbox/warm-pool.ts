/**
 * Compile slots started ahead of time, so container start stays off the request path. A slot is a
 * running container plus its own fresh job directory; it serves exactly one job and is destroyed,
 * and a replacement is started in the background. Slots are specific to a kernel set (mounted at
 * /k), so the pool keeps spares for the kernel set used last.
 */
import type Dockerode from 'dockerode';
import { LBC_HEADER_DIR, pidNamespace, stageMark } from '@lbc/core';
import { SandboxContainer } from './sandbox-container.ts';
import { createJobDir, removeJobDir, type JobDir } from './job-dir.ts';
import { LABEL_HOST, LABEL_JOB_DIR, LABEL_PID, LABEL_PIDNS, LABEL_ROLE, type SandboxLimits } from './hardening.ts';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Where things are inside every compile container. */
export const SANDBOX_SRC = '/job/src';
export const SANDBOX_OUT = '/job/out';
export const SANDBOX_KERNEL = '/k';
export const SANDBOX_LBC = '/lbc';

/** Written to stderr when the strip cannot run or fails: a fault of the sandbox, not of the program. */
export const STRIP_FAILED = 'lbc: llvm-strip -g failed';
export const STRIP_FAILED_STATUS = 70;

/**
 * What every compile container runs. clang reads its whole command line as a response file from
 * stdin, so it is already loaded and waiting when a job arrives. Its object then loses its DWARF,
 * as libbpf-tools' objects do (`llvm-strip -g`): .BTF and .BTF.ext (map and event types, CO-RE
 * relocations, line info for verifier messages) stay, and a program reading task_struct through
 * _() shrinks from 656 KB to 29 KB. llvm-strip is started with clang and waits for its arguments
 * on a FIFO: loading libLLVM costs it ~20 ms of CPU, spent while the container is still a warm
 * spare, not on the job's path. A strip that fails leaves no object, never an unstripped one.
 *
 * The strip starts as soon as clang's object is in place, not when clang has exited: clang writes
 * the object to a temporary file and renames it into place once complete (so an object there is a
 * whole one, and only a successful compile leaves one), then only prints its warning count and
 * exits, and tearing down its memory takes it ~10 ms that the strip now overlaps. bash (for
 * `read -t`, a sleep without a process) checks every millisecond while clang runs whether the
 * object is there or clang has exited.
 *
 * Once the stripped object is in place and clang has exited, `doneMarker exit 0` (the marker is
 * random, one per container) ends stderr: the worker reads the object then, instead of waiting for
 * the engine to notice the exit and close the output (tens of ms after it, more under load;
 * SandboxContainer.launch). On stderr, after clang's own diagnostics in the same pipe, so none can
 * arrive after it; clang ends any diagnostics it prints with its "N warnings generated." line, so
 * no program's message can pass for it. Every other way out ends stderr with `doneMarker exit N`
 * (N its status): a compile error is answered when clang exits, not when the engine has noticed.
 * Then the command waits to be killed: the container's teardown comes with the slot's release
 * (RELEASE_DELAY_MS), after the answer, instead of beside it. So every status the worker may
 * wait for is said (an object refused on the host, too large, is answered at once as well).
 * A change here changes objects: bump CACHE_KEY_VERSION (contract/src/cache-key.ts).
 */
export function compileCommand(doneMarker: string): string[] {
  if (!/^[A-Za-z0-9_-]+$/.test(doneMarker)) throw new Error(`a compile container's done marker must be a plain word: ${JSON.stringify(doneMarker)}`);
  // Every way out says its status after the marker (SandboxContainer.launch).
  // After its last words the command stays (blocked on a FIFO nobody writes) until the slot is
  // destroyed: its exit would make the engine tear the container down at once, tens of ms of CPU
  // spent on the host while the answer goes out. A status from a signal is the engine's to tell
  // (SandboxContainer.launch waits for the exit then), so that one exits.
  const stay = 'read -r -u 3 _';
  const finish = `finish() { echo "${doneMarker} exit $1" >&2; [ "$1" -lt 128 ] && ${stay}; exit "$1"; }`;
  const stripFailed = `{ rm -f "$1"; echo '${STRIP_FAILED}' >&2; finish ${STRIP_FAILED_STATUS}; }`;
  return [
    'bash',
    '-c',
    [
      finish,
      `mkfifo /tmp/strip.args /tmp/tick || { echo '${STRIP_FAILED}' >&2; finish ${STRIP_FAILED_STATUS}; }`,
      'LD_BIND_NOW=1 llvm-strip @/tmp/strip.args & strip=$!',
      // Never written: reading it with a timeout is the poll's sleep.
      'exec 3<>/tmp/tick',
      // A background job's stdin is /dev/null unless redirected. clang's exit is told by a file
      // the subshell that waits for it writes: bash (PID 1 here) reaps a background child only
      // now and then while it loops on \`read -t\`, so \`kill -0\` can find clang a zombie for
      // seconds, until the job's timeout.
      '{ clang @/dev/stdin; status=$?; : >/tmp/clang.exited; exit $status; } <&0 & clang=$!',
      `until [ -e ${SANDBOX_OUT}/*.bpf.o ] || [ -e /tmp/clang.exited ]; do read -t 0.001 -u 3; done`,
      // Looked at again: clang may have renamed its object into place and exited since the test.
      `set -- ${SANDBOX_OUT}/*.bpf.o`,
      // No object: clang failed (or was killed); its status is the container's.
      '[ -e "$1" ] || { wait $clang; finish $?; }',
      `printf '%s\\n' -g "$1" >/tmp/strip.args`,
      `wait $strip || ${stripFailed}`,
      // Only a clang that succeeded leaves an object.
      'wait $clang || { status=$?; rm -f "$1"; finish $status; }',
      'finish 0',
    ].join('\n'),
  ];
}

export interface CompileSlot {
  container: SandboxContainer;
  /** The line its command writes to stderr once the stripped object is in place (see compileCommand). */
  doneMarker: string;
  job: JobDir;
  kernelSetDir: string;
  /**
   * The engine's word that the container still runs, asked as the slot is handed out and answered
   * while its job starts: a spare killed a moment ago may not have closed its attach stream yet
   * (the engine answers the kill first, and under load the stream's end can come well after). A
   * job whose slot turns out dead releases it and takes another (compile-program.ts).
   */
  confirmed: Promise<boolean>;
  release(): Promise<void>;
}

export interface WarmPoolOptions {
  docker: Dockerode;
  image: string;
  jobsDir: string;
  limits: SandboxLimits;
  /** Spare slots kept started. 0 disables warming (every job starts its own). */
  size: number;
  /** Host directory mounted at /lbc (lbc.h); default: the checkout's (see header-dir.ts). */
  headerDir?: string;
  /** How long after its job a used slot is destroyed and replaced (RELEASE_DELAY_MS when absent). */
  releaseDelayMs?: number;
}

/**
 * A used slot is destroyed (and its replacement started) this long after its job, not at once:
 * removing one container and starting another costs the engine (dockerd, containerd, runc) tens of
 * ms of CPU, which on a small host would compete with the rest of the request it just served — the
 * answer, the client's download of the object, its load and attach. The container has exited by
 * then (or was killed); its job directory goes with it.
 */
export const RELEASE_DELAY_MS = 1000;

export function ownerLabels(role: string, jobDir?: string): Record<string, string> {
  return { [LABEL_ROLE]: role, [LABEL_HOST]: hostname(), [LABEL_PID]: String(process.pid), [LABEL_PIDNS]: pidNamespace(), ...(jobDir ? { [LABEL_JOB_DIR]: jobDir } : {}) };
}

export class WarmPool {
  private spares: Promise<CompileSlot>[] = [];
  private sparesFor: string | undefined;
  private closed = false;
  /** Used slots waiting for their destruction (RELEASE_DELAY_MS); close() destroys them at once. */
  private readonly releasing = new Map<NodeJS.Timeout, () => Promise<void>>();

  constructor(private readonly options: WarmPoolOptions) {}

  private async startSlot(kernelSetDir: string): Promise<CompileSlot> {
    const job = await createJobDir(this.options.jobsDir);
    const doneMarker = `lbc-done-${randomBytes(12).toString('hex')}`;
    try {
      const container = await SandboxContainer.start(this.options.docker, {
        image: this.options.image,
        cmd: compileCommand(doneMarker),
        workingDir: SANDBOX_SRC,
        mounts: [
          { host: job.src, container: SANDBOX_SRC, writable: false },
          { host: job.out, container: SANDBOX_OUT, writable: true },
          { host: kernelSetDir, container: SANDBOX_KERNEL, writable: false },
          { host: this.options.headerDir ?? LBC_HEADER_DIR, container: SANDBOX_LBC, writable: false },
        ],
        labels: ownerLabels('compile', job.root),
        limits: this.options.limits,
      });
      return {
        container,
        doneMarker,
        job,
        kernelSetDir,
        confirmed: Promise.resolve(true),
        release: async () => {
          stageMark('pool.destroy');
          await container.destroy();
          await removeJobDir(job.root);
          stageMark('pool.destroyed');
        },
      };
    } catch (err) {
      await removeJobDir(job.root);
      throw err;
    }
  }

  private spare(kernelSetDir: string): Promise<CompileSlot> {
    stageMark('pool.spare-start');
    const slot = this.startSlot(kernelSetDir);
    void slot.then(() => stageMark('pool.spare-started'), () => {});
    slot.catch(() => {});
    return slot;
  }

  private retarget(kernelSetDir: string): void {
    for (const old of this.spares.splice(0)) void old.then((s) => s.release(), () => {});
    this.sparesFor = kernelSetDir;
  }

  private refill(kernelSetDir: string): void {
    if (this.closed) return;
    if (this.sparesFor !== kernelSetDir) this.retarget(kernelSetDir);
    while (this.spares.length < this.options.size) this.spares.push(this.spare(kernelSetDir));
  }

  /**
   * A started slot for this kernel set: a warm spare when there is one. Its replacement starts
   * when it is released, not now: starting a container costs CPU the compile needs (keep one
   * spare more than the concurrency so one is always ready). `prepare` (the job's files) runs on
   * the slot before it is handed out (the files go to the slot's own job dir, which no other
   * container sees). A warm spare is handed out on its attach stream's word that it runs, with
   * the engine's asked for meanwhile (`confirmed`): that round trip overlaps the job's start
   * instead of coming before it. `fresh`: a container started now, not a spare (a job whose spare
   * was dead: the others may be too). A failed `prepare` releases the slot and throws its error.
   */
  async acquire(kernelSetDir: string, prepare?: (slot: CompileSlot) => Promise<void>, options: { fresh?: boolean } = {}): Promise<CompileSlot> {
    if (this.sparesFor !== kernelSetDir) this.retarget(kernelSetDir);
    const warm = options.fresh ? undefined : this.spares.shift();
    // Depleted (a burst, or the first job): the next job should not wait for a whole start.
    if (this.spares.length === 0 && !this.closed) this.spares.push(this.spare(kernelSetDir));
    // A spare that failed to start (engine hiccup): start one on the request path.
    const spare = warm && (await warm.catch(() => undefined));
    let slot: CompileSlot;
    if (spare?.container.alive) {
      const confirmed = spare.container.running();
      slot = this.handOut({ ...spare, confirmed }, kernelSetDir);
    } else {
      // Dead: destroyed now, and not counted as a used slot (no replacement for it).
      if (spare) void spare.release();
      slot = this.handOut(await this.startSlot(kernelSetDir), kernelSetDir);
    }
    try {
      await prepare?.(slot);
    } catch (err) {
      void slot.release();
      throw err;
    }
    return slot;
  }

  /** The slot as a job gets it: its release destroys it after the delay, then refills the spares. */
  private handOut(slot: CompileSlot, kernelSetDir: string): CompileSlot {
    const release = slot.release;
    let released: Promise<void> | undefined;
    return {
      ...slot,
      release: () => (released ??= this.later(async () => {
        await release();
        this.refill(kernelSetDir);
      })),
    };
  }

  /** Runs `work` after the release delay (at once when closed or without a delay); resolves when it is done. */
  private later(work: () => Promise<void>): Promise<void> {
    const delay = this.options.releaseDelayMs ?? RELEASE_DELAY_MS;
    if (this.closed || delay <= 0) return work();
    return new Promise<void>((resolve, reject) => {
      const run = () => {
        this.releasing.delete(timer);
        return work().then(resolve, reject);
      };
      const timer = setTimeout(run, delay);
      this.releasing.set(timer, run);
    });
  }

  /** Starts spares for a kernel set before any job asks for it. */
  prewarm(kernelSetDir: string): void {
    this.refill(kernelSetDir);
  }

  async close(): Promise<void> {
    this.closed = true;
    const spares = this.spares.splice(0);
    const used = [...this.releasing].map(([timer, run]) => {
      clearTimeout(timer);
      return run().catch(() => {});
    });
    await Promise.all([...used, ...spares.map((s) => s.then((slot) => slot.release(), () => {}))]);
  }
}
