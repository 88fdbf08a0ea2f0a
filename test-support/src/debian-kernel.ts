/** Debian's real kernel image packages as test and bench data (the slow tier, bench/ingest.ts). */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The newest linux-image-6.1.0-N-cloud-amd64 the archive has (its -dbg package with `dbg`), downloaded into `dir`. */
export function downloadDebianCloudKernel(dir: string, opts: { dbg?: boolean; release?: string } = {}): { file: string; release: string } {
  const names = execFileSync('apt-cache', ['search', '--names-only', '^linux-image-6\\.1\\.0-[0-9]+-cloud-amd64$'], { encoding: 'utf8' })
    .split('\n').map((l) => l.split(' ')[0]!).filter(Boolean)
    .sort((a, b) => Number(/-(\d+)-cloud/.exec(a)![1]) - Number(/-(\d+)-cloud/.exec(b)![1]));
  const image = opts.release ? `linux-image-${opts.release}` : names.at(-1);
  const pkg = image && opts.dbg ? `${image}-dbg` : image;
  if (!pkg) throw new Error('apt-cache knows no linux-image-6.1.0-*-cloud-amd64 package: run apt-get update (Debian bookworm archive)');
  execFileSync('apt-get', ['download', '-q', pkg], { cwd: dir, stdio: 'pipe' });
  const file = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!file) throw new Error(`apt-get download ${pkg} produced no .deb`);
  return { file: join(dir, file), release: image!.replace(/^linux-image-/, '') };
}

/** The archive's base URI as this machine's own apt sources name it (deb822 or one-line format). */
function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    const text = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    const uri = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s/m.exec(text)?.[1];
    if (uri) return uri;
  }
  throw new Error('no Debian archive URI in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list');
}

/**
 * The newest Debian arm64 cloud kernel image of a series (`6.1`: bookworm's linux-image-6.1.0-N-cloud-arm64;
 * `6.12`: trixie's linux-image-6.12.N+deb13-cloud-arm64), downloaded into `dir` through a private apt
 * configuration of its own (own list file, lists, cache and an empty dpkg status): this machine's
 * sources and architecture are left alone.
 */
export function downloadDebianArm64Kernel(dir: string, series: '6.1' | '6.12'): { file: string; release: string } {
  const apt = join(dir, 'apt-arm64');
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(apt, d), { recursive: true });
  const mirror = debianMirror();
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  writeFileSync(join(apt, 'sources.list'), [
    `deb [signed-by=${keyring}] ${mirror} bookworm main`,
    `deb [signed-by=${keyring}] ${mirror}-security trixie-security main`,
    `deb [signed-by=${keyring}] ${mirror} trixie main`,
  ].join('\n') + '\n');
  writeFileSync(join(apt, 'status'), '');
  const opts = [
    `Dir::Etc::sourcelist=${join(apt, 'sources.list')}`, 'Dir::Etc::sourceparts=-', `Dir::State::Lists=${join(apt, 'lists')}`,
    `Dir::Cache=${join(apt, 'cache')}`, 'APT::Architecture=arm64', 'APT::Architectures::=arm64', `Dir::State::status=${join(apt, 'status')}`,
  ].flatMap((o) => ['-o', o]);
  if (readdirSync(join(apt, 'lists')).length <= 2) execFileSync('apt-get', [...opts, '-q', 'update'], { stdio: 'pipe' });
  const pattern = series === '6.1' ? '^linux-image-6\\.1\\.0-[0-9]+-cloud-arm64$' : '^linux-image-6\\.12\\.[0-9]+\\+deb13-cloud-arm64$';
  const names = execFileSync('apt-cache', [...opts, 'search', '--names-only', pattern], { encoding: 'utf8' })
    .split('\n').map((l) => l.split(' ')[0]!).filter(Boolean)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const pkg = names.at(-1);
  if (!pkg) throw new Error(`the Debian archive at ${mirror} has no package matching ${pattern}`);
  execFileSync('apt-get', [...opts, 'download', '-q', pkg], { cwd: dir, stdio: 'pipe' });
  const file = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('_arm64.deb'));
  if (!file) throw new Error(`apt-get download ${pkg} produced no .deb`);
  return { file: join(dir, file), release: pkg.replace(/^linux-image-/, '') };
}
