/**
 * A bare target, as a production host is: a Debian minbase root (debootstrap, built once and cached)
 * with libelf1, and this machine's node and npm copied in. No compiler, python, make, headers or
 * libbpf. Each use gets a writable overlay on the cached root, so runs never see each other's
 * installs; /proc, /sys, /dev, bpffs and tracefs are bind-mounted in, and the network is the
 * host's (the npm registry and a service on 127.0.0.1 are reachable from inside).
 */
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const SUITE = 'bookworm';

/** Where the cached roots live: the native build's cache (client/native/scripts/libbpf.sh). */
export function nativeCacheDir(): string {
  return process.env.LBC_NATIVE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lbc-native');
}

/** The Debian mirror this machine uses. */
export function debianMirror(): string {
  try {
    const sources = readFileSync('/etc/apt/sources.list.d/debian.sources', 'utf8');
    const uri = /^URIs:\s*(\S+)/m.exec(sources)?.[1];
    if (uri) return uri;
  } catch {
    // the one-line format, or none
  }
  return 'http://deb.debian.org/debian';
}

/** The cached minbase root with libelf1, made on first use (about a minute). */
export async function bareRoot(): Promise<string> {
  const root = join(nativeCacheDir(), `bare-${SUITE}`);
  if (existsSync(join(root, '.complete'))) return root;
  const partial = `${root}.${process.pid}.tmp`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(dirname(root), { recursive: true });
  // Asynchronous: a test worker blocked for a minute misses vitest's own calls.
  await promisify(execFile)('debootstrap', ['--variant=minbase', '--include=libelf1', SUITE, partial, debianMirror()]);
  writeFileSync(join(partial, '.complete'), '');
  rmSync(root, { recursive: true, force: true });
  renameSync(partial, root);
  return root;
}

export interface BareTarget {
  /** The target's root directory as the host sees it (the overlay's merged view). */
  root: string;
  /** Runs a shell command inside the target as root; resolves with its exit code and output. */
  sh(command: string, env?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /**
   * Starts a shell command inside the target and hands over the child, the leader of a process
   * group: signal(child, SIG) reaches every process under it (npx runs the command in a child).
   */
  spawn(command: string, env?: Record<string, string>): ChildProcessWithoutNullStreams;
  stop(): void;
}

/** Sends SIGNAL to the process group of a child started by BareTarget.spawn, and waits for it to exit. */
export async function signalGroup(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
  await exited;
}

const BIND_MOUNTS = ['/proc', '/sys', '/dev', '/sys/fs/bpf', '/sys/kernel/tracing'];

/** A fresh overlay on the cached root with node and npm in /usr/local, mounted and ready. */
export async function startBareTarget(): Promise<BareTarget> {
  const lower = await bareRoot();
  const dir = mkdtempSync(join(tmpdir(), 'lbc-bare-'));
  const [upper, work, root] = ['upper', 'work', 'root'].map((d) => join(dir, d)) as [string, string, string];
  for (const d of [upper, work, root]) mkdirSync(d);
  const mounted: string[] = [];
  const stop = () => {
    for (const m of mounted.reverse()) execFileSync('umount', ['-l', m]);
    mounted.length = 0;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, root]);
    mounted.push(root);
    for (const m of BIND_MOUNTS) {
      mkdirSync(join(root, m), { recursive: true });
      execFileSync('mount', ['--bind', m, join(root, m)]);
      mounted.push(join(root, m));
    }
    installNode(root);
  } catch (error) {
    stop();
    throw error;
  }
  const env = (extra: Record<string, string>) => ({ PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', HOME: '/root', LANG: 'C.UTF-8', ...extra });
  const start = (command: string, extra: Record<string, string> = {}) =>
    spawn('chroot', [root, '/bin/sh', '-c', command], { env: env(extra), stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  return {
    root,
    spawn: start,
    sh(command, extra = {}) {
      const child = start(command, extra);
      child.stdin.end();
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      return new Promise((r) => child.once('close', (code) => r({ code, stdout, stderr })));
    },
    stop,
  };
}

/**
 * This machine's node (it needs only the glibc and libstdc++ a minbase root has) and npm, in
 * /usr/local as an official tarball would put them, plus what the network needs: DNS and the CA
 * bundle npm is configured with (the registry may be reached through an intercepting proxy).
 */
function installNode(root: string): void {
  const node = realpathSync(process.execPath);
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  copyFileSync(node, join(root, 'usr/local/bin/node'));
  const npmCli = realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
  const npmDir = dirname(dirname(npmCli));
  cpSync(npmDir, join(root, 'usr/local/lib/node_modules/npm'), { recursive: true });
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(root, 'usr/local/bin/npx'));
  copyFileSync('/etc/resolv.conf', join(root, 'etc/resolv.conf'));
  const npmrc = ['fund=false', 'audit=false', 'update-notifier=false'];
  const cafile = execFileSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).trim();
  if (cafile && cafile !== 'null' && existsSync(cafile)) {
    mkdirSync(join(root, 'usr/local/etc'), { recursive: true });
    copyFileSync(cafile, join(root, 'usr/local/etc/npm-ca.crt'));
    npmrc.push('cafile=/usr/local/etc/npm-ca.crt');
  }
  mkdirSync(join(root, 'root'), { recursive: true });
  writeFileSync(join(root, 'root/.npmrc'), npmrc.join('\n') + '\n');
}
