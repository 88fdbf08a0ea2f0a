/** Debian's real kernel image package as test and bench data (the slow tier, bench/ingest.ts). */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
