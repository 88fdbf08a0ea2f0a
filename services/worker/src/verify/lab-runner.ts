/**
 * The guest runner binary (services/worker/lab-runner): built by its build.sh for the guest's
 * architecture, cached by the hash of its inputs, never committed. LAB_VERSION names what produces
 * a verdict besides the object and the kernel (the runner's sources, the shared addon files it
 * compiles, the guest's /init and the plan's writer): a verdict cache keyed by it is dropped when
 * any of them changes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LbcError, type Arch } from '@lbc/contract';
import { GUEST_INIT } from '@lbc/core/lab';

const RUNNER_DIR = resolve(import.meta.dirname, '../../lab-runner');
/** The client's addon sources, found through the package (build.sh finds them the same way). */
const NATIVE_SRC = join(dirname(createRequire(import.meta.url).resolve('lbc-client/package.json')), 'native/src');
const SHARED = ['trampoline-probe.cc', 'trampoline-probe.h', 'libbpf-log.cc', 'libbpf-log.h'];

function labVersion(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(RUNNER_DIR).sort().map((f) => join(RUNNER_DIR, f)),
    ...SHARED.map((f) => join(NATIVE_SRC, f)),
    join(import.meta.dirname, 'guest-plan.ts'),
    join(import.meta.dirname, 'guest-image.ts'),
    join(import.meta.dirname, 'verify-in-guest.ts'),
  ];
  for (const file of files) hash.update(`${file.slice(file.lastIndexOf('/') + 1)}\0`).update(readFileSync(file)).update('\0');
  hash.update(GUEST_INIT);
  return `lab-1-${hash.digest('hex').slice(0, 16)}`;
}

export const LAB_VERSION = labVersion();

const built = new Map<Arch, Promise<string>>();

/** The runner for `arch`: built on first use (about 7 s), at once when cached. */
export function labRunner(arch: Arch): Promise<string> {
  let path = built.get(arch);
  if (!path) {
    path = promisify(execFile)('bash', [join(RUNNER_DIR, 'build.sh'), arch], { maxBuffer: 1 << 20 }).then(
      ({ stdout }) => stdout.trim().split('\n').pop()!,
      (err: Error & { stderr?: string }) => {
        built.delete(arch);
        throw new LbcError('LBC_ERR_LAB_NOT_SET_UP', `the lab's guest runner for ${arch} did not build: ${(err.stderr ?? err.message).trim().split('\n').slice(-5).join('\n')}`, { arch });
      },
    );
    built.set(arch, path);
  }
  return path;
}
