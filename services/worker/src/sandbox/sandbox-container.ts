/**
 * One single-use sandbox container. It is created and started ahead of time (warm) with its command
 * blocked reading stdin; `run` writes the input, closes stdin and collects the result. The container
 * is then destroyed: no container ever serves two jobs.
 */
import { PassThrough } from 'node:stream';
import type { Duplex } from 'node:stream';
import type Dockerode from 'dockerode';
import { LbcError } from '@lbc/contract';
import { hardenedContainerOptions, type SandboxSpec } from './hardening.ts';

export interface RunOutput {
  stdout: string;
  stderr: string;
  /** Output beyond the cap was dropped. */
  truncated: boolean;
  ms: number;
}

export interface RunOutcome extends RunOutput {
  exitCode: number;
  /** Killed by the wall-clock timeout. */
  timedOut: boolean;
  oomKilled: boolean;
  /** SIGKILLed once its CPU time reached the limit (RLIMIT_CPU, hard = soft). */
  cpuLimited: boolean;
  /**
   * SIGKILLed by something else — the engine restarting, another process removing the container —
   * sooner than the CPU limit could have: not the program's doing.
   */
  killedOutside: boolean;
}

export interface RunHandle {
  output: Promise<RunOutput>;
  exit: Promise<RunOutcome>;
}

export type { SandboxSpec };

/** Diagnostics beyond this are dropped: a runaway program must not fill the worker's memory. */
const OUTPUT_CAP = 256 * 1024;

/**
 * Bound on an engine call that should answer at once. A connection to the engine that dies at the
 * wrong moment (before a hijacked attach is upgraded, during a wait) may never settle its promise:
 * a worker must not hold a job forever on it.
 */
const ENGINE_CALL_MS = 30_000;
/** How long after the output ended a wait may take before the exit status is read another way. */
const WAIT_GRACE_MS = 3000;
/**
 * The engine records an OOM kill from an event of its own, which can come after the exit it
 * reports: a SIGKILLed process's container is inspected again for this long before the kill is
 * taken for something other than the memory limit.
 */
const OOM_FLAG_WAIT_MS = 1000;
const SIGKILLED = 137;

function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the Docker engine did not answer within ${ms} ms (${what})`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function sandboxError(what: string, err: unknown): LbcError {
  return new LbcError('LBC_ERR_SANDBOX', `${what}: ${(err as Error).message}`, undefined, { cause: err });
}

/** The last bytes kept past the cap: enough for a done marker's line (see LaunchOptions). */
const TAIL_BYTES = 256;

class CappedText {
  private chunks: Buffer[] = [];
  private size = 0;
  /** The stream's last bytes, kept even past the cap: a command's last words end a flood too. */
  private tail = Buffer.alloc(0);
  truncated = false;
  readonly sink = new PassThrough();
  constructor() {
    this.sink.on('data', (chunk: Buffer) => {
      this.tail = Buffer.concat([this.tail, chunk]).subarray(-TAIL_BYTES);
      if (this.size >= OUTPUT_CAP) {
        this.truncated = true;
        return;
      }
      const room = OUTPUT_CAP - this.size;
      if (chunk.length > room) this.truncated = true;
      const kept = chunk.subarray(0, room);
      this.chunks.push(kept);
      this.size += kept.length;
    });
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
  /**
   * The text up to a last line that is `marker`, or `marker exit N` (which is left out), and N;
   * undefined when the text does not end with such a line. Past the cap the marker is looked for
   * in the stream's tail, and the text is what the cap kept.
   */
  markedEnd(marker: string): MarkedEnd | undefined {
    const last = lastLine(this.truncated ? this.tail.toString('utf8') : this.text());
    if (!last) return undefined;
    const text = this.truncated ? withoutMarkerStart(this.text(), marker) : last.before;
    if (last.line === marker) return { text };
    const reported = last.line.startsWith(`${marker} exit `) ? /^(\d{1,3})$/.exec(last.line.slice(marker.length + 6)) : null;
    return reported ? { text, exitCode: Number(reported[1]) } : undefined;
  }
}

/** A capped text whose cut fell inside the marker's line: that part of it left out. */
function withoutMarkerStart(text: string, marker: string): string {
  const part = text.slice(text.lastIndexOf('\n') + 1);
  return part && (marker.startsWith(part) || part.startsWith(marker)) ? text.slice(0, -part.length) : text;
}

/** A text's last whole line and what comes before it; undefined unless the text ends with a newline. */
function lastLine(text: string): { line: string; before: string } | undefined {
  if (!text.endsWith('\n')) return undefined;
  const start = text.lastIndexOf('\n', text.length - 2) + 1;
  return { line: text.slice(start, -1), before: text.slice(0, start) };
}

interface MarkedEnd {
  text: string;
  /** The status the command said it exits with; absent for the plain marker (work done). */
  exitCode?: number;
}

export interface LaunchOptions {
  /**
   * A last stderr line the command writes when its work is done (a word nothing else can print):
   * `output` is ready when it arrives, without it, and before the process has even exited. The
   * command writes `MARKER exit N` instead as its last words when it ends otherwise: `exit` is
   * then the status N at once, without waiting for the engine to report the exit (tens of ms
   * after it, seconds on a loaded host). A status from a signal (128 and above: a kill at a limit,
   * the OOM killer) is left to the engine, which tells them apart.
   */
  doneMarker?: string;
}

/** Exit statuses from 128 up are a signal's (bash: 128 + its number). */
const SIGNAL_STATUS = 128;

export class SandboxContainer {
  private used = false;
  private ended = false;
  /** Destroyed by its owner: an exit after that is the owner's kill, not the job's. */
  private destroyed = false;
  private killTimer: NodeJS.Timeout | undefined;
  private constructor(
    readonly container: Dockerode.Container,
    private readonly stream: Duplex,
    private readonly stdout: CappedText,
    private readonly stderr: CappedText,
    private readonly cpuSeconds: number,
  ) {
    const onEnd = () => {
      this.ended = true;
    };
    stream.once('end', onEnd);
    stream.once('close', onEnd);
  }

  /** False once the container's process is gone (engine restart, killed): a spare that can no longer serve. */
  get alive(): boolean {
    return !this.ended && !this.used;
  }

  /**
   * The process runs (its attach stream is open), confirmed by the engine; a job may be in it. A
   * container killed a moment ago may not have closed its attach stream yet (the engine answers
   * the kill first, and under load the stream's end can come well after), so `alive` alone can
   * hand out a dead spare. Once its job is launched, the stream's end is the job's own (the
   * engine's Running still tells whether it was alive when asked).
   */
  async running(): Promise<boolean> {
    if (this.ended) return false;
    const info = await withDeadline(this.container.inspect(), ENGINE_CALL_MS, 'inspect').catch(() => undefined);
    return Boolean(info?.State?.Running) && (this.used || !this.ended);
  }

  static async start(docker: Dockerode, spec: SandboxSpec): Promise<SandboxContainer> {
    let container: Dockerode.Container | undefined;
    try {
      container = await withDeadline(docker.createContainer(hardenedContainerOptions(spec)), ENGINE_CALL_MS, 'create');
      // Attach before start so no byte of output is missed.
      const attached = container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true }) as unknown as Promise<Duplex>;
      const stream = await withDeadline(attached, ENGINE_CALL_MS, 'attach');
      const stdout = new CappedText();
      const stderr = new CappedText();
      docker.modem.demuxStream(stream, stdout.sink, stderr.sink);
      stream.on('error', () => {});
      await withDeadline(container.start(), ENGINE_CALL_MS, 'start');
      return new SandboxContainer(container, stream, stdout, stderr, spec.limits.cpuSeconds);
    } catch (err) {
      if (container) await container.remove({ force: true }).catch(() => {});
      throw sandboxError('starting a sandbox container', err);
    }
  }

  get id(): string {
    return this.container.id;
  }

  /**
   * Feeds `input` on stdin and returns two moments: `output`, when the process has closed its
   * output (it has exited) or written `options.doneMarker`, and `exit`, when the engine reports
   * the exit status. The engine closes the output only once it has seen the process exit, and
   * reports the status after tearing the container down, tens of milliseconds later each, so a
   * caller that can tell success from the output alone need not wait for `exit` (nor for a
   * failure the command reports after its marker: see LaunchOptions). The process is killed after
   * `timeoutMs`.
   */
  launch(input: string, timeoutMs: number, options: LaunchOptions = {}): RunHandle {
    if (this.used) throw new LbcError('LBC_ERR_INTERNAL', 'a sandbox container was reused');
    if (this.ended) throw new LbcError('LBC_ERR_SANDBOX', 'the sandbox container exited before its job started');
    this.used = true;
    const started = performance.now();
    let timedOut = false;
    const timer = (this.killTimer = setTimeout(() => {
      timedOut = true;
      this.container.kill().catch(() => {});
    }, timeoutMs));
    const streamEnded = new Promise<void>((done) => {
      this.stream.once('end', done);
      this.stream.once('close', done);
    });
    const collect = (): RunOutput => ({
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
      truncated: this.stdout.truncated || this.stderr.truncated,
      ms: performance.now() - started,
    });
    const exit = (async (): Promise<RunOutcome> => {
      let exitCode: number;
      try {
        // The engine answers a wait tens of ms after the output ends; a wait whose connection died
        // never answers, so once the output has ended a fresh inspect stands in for it.
        let settled = false;
        let grace: NodeJS.Timeout | undefined;
        const waited = this.container.wait().then((r: { StatusCode: number }) => r.StatusCode);
        const inspected = new Promise<number>((resolve, reject) => {
          void streamEnded.then(() => {
            if (!settled) grace = setTimeout(() => this.exitCodeNow().then(resolve, reject), WAIT_GRACE_MS);
          });
        });
        waited.catch(() => {});
        inspected.catch(() => {});
        try {
          // The kill at timeoutMs makes the engine answer; beyond that the connection is dead.
          exitCode = await withDeadline(Promise.race([waited, inspected]), timeoutMs + ENGINE_CALL_MS, 'wait');
        } finally {
          settled = true;
          clearTimeout(grace);
        }
      } catch (err) {
        throw sandboxError('running in the sandbox', err);
      } finally {
        clearTimeout(timer);
      }
      const ms = performance.now() - started;
      // The last output bytes may arrive just after the exit status.
      await Promise.race([streamEnded, new Promise((r) => setTimeout(r, 200))]);
      await new Promise((r) => setImmediate(r));
      const oomKilled = exitCode === SIGKILLED && !timedOut && !this.destroyed && (await this.oomKilled());
      // With at most one CPU, reaching the CPU limit takes at least that long on the wall clock
      // (less the second clang may spend starting before its input arrives).
      const sigkilled = exitCode === SIGKILLED && !timedOut && !oomKilled;
      const cpuLimited = sigkilled && ms >= (this.cpuSeconds - 1) * 1000;
      return { ...collect(), ms, exitCode, timedOut, oomKilled, cpuLimited, killedOutside: sigkilled && !cpuLimited };
    })();
    exit.catch(() => {});
    this.stream.end(input);
    // Demuxed chunks reach the collectors a tick after the stream ends. An attach stream that
    // never ends (a connection to the engine lost at the wrong moment) must not hold the output
    // past the exit the engine reports.
    const closed = Promise.race([streamEnded.then(() => new Promise<RunOutput>((r) => setImmediate(() => r(collect())))), exit]);
    const { doneMarker } = options;
    if (!doneMarker) return { output: closed, exit };
    const marked = new Promise<MarkedEnd>((resolve) => {
      const check = () => {
        const end = this.stderr.markedEnd(doneMarker);
        if (!end) return;
        this.stderr.sink.off('data', check);
        resolve(end);
      };
      this.stderr.sink.on('data', check);
    });
    const done = marked.then((end): RunOutput => ({ ...collect(), stderr: end.text }));
    // The marker also ends the stderr `exit` reports.
    const exitWithoutMarker = exit.then((run): RunOutcome => ({ ...run, stderr: this.stderr.markedEnd(doneMarker)?.text ?? run.stderr }));
    const reportedExit = marked.then((end): Promise<RunOutcome> | RunOutcome => {
      const { exitCode } = end;
      if (exitCode === undefined || exitCode >= SIGNAL_STATUS || timedOut) return exitWithoutMarker;
      return { ...collect(), stderr: end.text, exitCode, timedOut: false, oomKilled: false, cpuLimited: false, killedOutside: false };
    });
    const exitFirst = Promise.race([reportedExit, exitWithoutMarker]);
    exitFirst.catch(() => {});
    return { output: Promise.race([done, closed]), exit: exitFirst };
  }

  private async oomKilled(): Promise<boolean> {
    const deadline = performance.now() + OOM_FLAG_WAIT_MS;
    for (;;) {
      const info = await withDeadline(this.container.inspect(), ENGINE_CALL_MS, 'inspect').catch(() => undefined);
      if (info?.State?.OOMKilled) return true;
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async exitCodeNow(): Promise<number> {
    const info = await withDeadline(this.container.inspect(), ENGINE_CALL_MS, 'inspect');
    if (info.State.Running) throw new Error('lost the connection to the running sandbox container');
    return info.State.ExitCode;
  }

  /** Feeds `input` on stdin, then waits for the command to exit or kills it after `timeoutMs`. */
  async run(input: string, timeoutMs: number): Promise<RunOutcome> {
    return this.launch(input, timeoutMs).exit;
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.stream.destroy();
    const removed = await this.container.remove({ force: true }).then(
      () => true,
      () => false,
    );
    // A container the engine would not remove (its command waits to be killed) is still killed at its job's time limit.
    if (removed) clearTimeout(this.killTimer);
  }
}
