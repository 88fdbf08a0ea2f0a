/**
 * Boots one lab kernel under QEMU (TCG: this host's /dev/kvm is not hardware virtualization), runs
 * the initramfs's /lab/run, and returns what the console said. QEMU always runs under a wall limit;
 * a guest that ends without /init's exit marker (panic, no init) or outlives the limit is an error
 * carrying the console's last lines.
 */
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LbcError, type Arch } from '@lbc/contract';
import { readConsole, GUEST_MARKER } from './guest-console.ts';
import { LAB_SETUP_COMMAND, type LabKernel } from './lab-kernels.ts';

export interface BootOptions {
  kernel: Pick<LabKernel, 'id' | 'arch' | 'vmlinuz'>;
  /** Initramfs archives, unpacked in this order (the base image first, then the run's own). */
  initrds: readonly string[];
  /** Wall limit for the whole boot, ms (default 120 s). */
  timeoutMs?: number;
  memoryMb?: number;
  cpus?: number;
  /** Called with each complete console line as it arrives (progress, live logs). */
  onLine?: (line: string, msSinceStart: number) => void;
  /** Kernel arguments added to the lab's own (console, panic=-1, quiet). */
  append?: string;
  /** Starts QEMU (default: a child process of this one); a sandbox runs it in a container instead. */
  launch?: QemuLauncher;
}

/** One QEMU run: the emulator's name, its options, and the two files it boots. */
export interface QemuCommand {
  binary: string;
  args: string[];
  kernel: string;
  initrd: string;
}

/** A started QEMU: its console (stdout), its complaints (stderr), a way to end it, and its end. */
export interface QemuProcess {
  stdout: NodeJS.ReadableStream;
  stderr: NodeJS.ReadableStream;
  kill(): void;
  /** Resolves once it has exited and its output has ended: the exit code, or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: string | null }>;
}

export type QemuLauncher = (command: QemuCommand) => QemuProcess;

export interface GuestRun {
  kernelId: string;
  records: unknown[];
  exitCode: number;
  /** Every console line. */
  console: string[];
  /** Host ms from QEMU's start to /init's first marker, to the exit marker, and to QEMU's exit. */
  initMs: number;
  doneMs: number;
  wallMs: number;
  /** Host ms from QEMU's start at which each record line arrived. */
  recordMs: number[];
}

// no_timer_check: on a loaded host the emulated guest can miss the IO-APIC timer check and panic
// ("IO-APIC + timer doesn't work"), as virtual machines commonly do; the check proves nothing here.
const QEMU: Record<Arch, { binary: string; args: string[]; append: string }> = {
  x86_64: { binary: 'qemu-system-x86_64', args: ['-cpu', 'max'], append: 'console=ttyS0 no_timer_check' },
  aarch64: { binary: 'qemu-system-aarch64', args: ['-M', 'virt', '-cpu', 'max,pauth-impdef=on'], append: 'console=ttyAMA0' },
};

const CONSOLE_TAIL = 25;

export async function bootGuest(options: BootOptions): Promise<GuestRun> {
  const qemu = QEMU[options.kernel.arch];
  const scratch = mkdtempSync(join(tmpdir(), 'lbc-guest-'));
  try {
    const initrd = await concatenate(options.initrds, join(scratch, 'initrd'));
    const args = [
      '-accel', 'tcg,thread=multi', ...qemu.args,
      '-m', String(options.memoryMb ?? 1024), '-smp', String(options.cpus ?? 1),
      '-nographic', '-no-reboot', '-nic', 'none',
      '-append', `${qemu.append} panic=-1 quiet${options.append ? ` ${options.append}` : ''}`,
    ];
    return await runQemu({ binary: qemu.binary, args, kernel: options.kernel.vmlinuz, initrd }, options);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** QEMU as a child process of this one, found on PATH. */
export const launchQemuHere: QemuLauncher = (command) => {
  const binary = findOnPath(command.binary);
  if (!binary) throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `${command.binary} is not installed; run ${LAB_SETUP_COMMAND}`);
  const child = spawn(binary, [...command.args, '-kernel', command.kernel, '-initrd', command.initrd], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve, reject) => {
    child.once('error', (err) => reject(new LbcError('LBC_ERR_GUEST_FAILED', `${binary}: ${err.message}`, undefined, { cause: err })));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { stdout: child.stdout, stderr: child.stderr, kill: () => child.kill('SIGKILL'), exited };
};

function runQemu(command: QemuCommand, options: BootOptions): Promise<GuestRun> {
  const start = performance.now();
  const since = () => Math.round(performance.now() - start);
  const child = (options.launch ?? launchQemuHere)(command);
  const lines: string[] = [];
  const recordMs: number[] = [];
  let initMs = -1;
  let doneMs = -1;
  let partial = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const part of parts) {
      const line = part.replace(/\r$/, '');
      lines.push(line);
      const at = since();
      if (initMs < 0 && line.includes(GUEST_MARKER.init)) initMs = at;
      if (line.includes(GUEST_MARKER.record)) recordMs.push(at);
      if (doneMs < 0 && line.includes(GUEST_MARKER.exit)) doneMs = at;
      options.onLine?.(line, at);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));

  const tail = () => [...lines.slice(-CONSOLE_TAIL), ...stderr.trim().split('\n').filter(Boolean).map((l) => `qemu: ${l}`)];
  const limitMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    let settled = false;
    // At the wall limit the guest is killed and the caller answered at once: a sandbox's
    // container may take a while longer to go, which is no reason to keep anyone waiting.
    const timer = setTimeout(() => {
      settled = true;
      child.kill();
      const t = tail();
      reject(new LbcError('LBC_ERR_GUEST_TIMEOUT', `${options.kernel.id} still running after ${limitMs} ms; console:\n${t.join('\n')}`, { kernel: options.kernel.id, console: t }));
    }, limitMs);
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (settled) return;
      if (partial) lines.push(partial);
      const wallMs = since();
      const t = tail();
      const details = { kernel: options.kernel.id, console: t };
      const reading = readConsole(lines);
      if (reading.exitCode === undefined) {
        const how = signal ? `QEMU killed by ${signal}` : `QEMU exited with ${code}`;
        const stage = reading.initSeen ? '/lab/run did not finish' : 'the guest never reached /init';
        reject(new LbcError('LBC_ERR_GUEST_FAILED', `${options.kernel.id}: ${stage} (${how}); console:\n${t.join('\n')}`, details));
      } else {
        resolve({ kernelId: options.kernel.id, records: reading.records, exitCode: reading.exitCode, console: lines, initMs, doneMs, wallMs, recordMs });
      }
    }, (err: unknown) => {
      clearTimeout(timer);
      if (!settled) reject(err);
    });
  });
}

/** One initrd file from several archives (QEMU takes one; the kernel unpacks them in turn). */
async function concatenate(parts: readonly string[], out: string): Promise<string> {
  if (parts.length === 1) return parts[0]!;
  closeSync(openSync(out, 'w'));
  for (const part of parts) await pipeline(createReadStream(part), createWriteStream(out, { flags: 'a' }));
  return out;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const full = join(dir, name);
    if (existsSync(full)) return full;
  }
  return undefined;
}
