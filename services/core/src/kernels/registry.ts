/**
 * The kernels the service can compile against. A kernel is registered from its raw BTF: the hash
 * is checked, the BTF validated, the blob stored, a row written, and the BTF published to Redis so
 * any worker can build the kernel set from the hash alone.
 */
import type { Redis } from 'ioredis';
import { parseBtf } from '@lbc/btf';
import { ARCHES, LbcError, type Arch, type CompileTarget, type KernelInfo } from '@lbc/contract';
import type { Db } from '../store/database.ts';
import { sha256Of, type BlobStore } from '../store/blob-store.ts';
import { hasSharedBtf, putSharedBtf } from './btf-store.ts';
import { validateBtfHeader } from './btf-validate.ts';
import { rankByNearness } from './registry-nearest.ts';

export interface RegisterKernelInput {
  btf: Buffer;
  release: string;
  arch: Arch;
  distro?: string;
  source: 'host' | 'upload' | 'package';
  /** The hash the uploader claims; a mismatch is LBC_ERR_BTF_HASH_MISMATCH. */
  expectedSha256?: string;
  /**
   * An upload by an admin may take over a release another kernel holds (and promotes an upload
   * kept by hash only); a non-admin's upload under a taken release is kept by hash only.
   */
  byAdmin?: boolean;
}

interface Row {
  btf_sha256: string;
  release: string;
  arch: string;
  distro: string;
  source: string;
  btf_size: number;
  created_at: string;
  answers_release: number;
}

const toInfo = (r: Row): KernelInfo => ({
  btfSha256: r.btf_sha256,
  release: r.release,
  arch: r.arch as Arch,
  distro: r.distro,
  source: r.source,
  btfSize: r.btf_size,
  createdAt: r.created_at,
  answersForRelease: r.answers_release !== 0,
});

export interface KernelRegistryOptions {
  /** Full BTF check after the header check; @lbc/btf's parser by default. */
  validateBtf?: (btf: Buffer) => void;
  /** Wraps each Redis call (timeouts); identity by default. */
  guardRedis?: <T>(work: Promise<T>, what: string) => Promise<T>;
}

export class KernelRegistry {
  private readonly guard: <T>(work: Promise<T>, what: string) => Promise<T>;
  private readonly registeredListeners: ((kernel: KernelInfo) => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly blobs: BlobStore,
    private readonly redis: Redis,
    private readonly options: KernelRegistryOptions = {},
  ) {
    this.guard = options.guardRedis ?? ((work) => work);
  }

  async register(input: RegisterKernelInput): Promise<{ kernel: KernelInfo; created: boolean }> {
    const sha256 = sha256Of(input.btf);
    if (input.expectedSha256 && input.expectedSha256 !== sha256) {
      throw new LbcError('LBC_ERR_BTF_HASH_MISMATCH', `got ${sha256}`, { expected: input.expectedSha256, actual: sha256 });
    }
    if (!(ARCHES as readonly string[]).includes(input.arch)) throw new LbcError('LBC_ERR_BAD_REQUEST', `unknown arch ${JSON.stringify(input.arch)}`, { field: 'arch' });
    const existing = this.get(sha256);
    // Same hash, same bytes: a known kernel was parsed when it was first registered (a full parse
    // of a vmlinux BTF takes a few hundred ms, too long to repeat on every start).
    if (!existing) this.validate(input.btf);
    this.blobs.put(input.btf);
    await this.guard(putSharedBtf(this.redis, sha256, input.btf), 'publishing BTF');
    if (existing) {
      if (existing.answersForRelease || (input.source === 'upload' && !input.byAdmin)) return { kernel: existing, created: false };
      // An admin (or the host, or a package) vouches for an upload kept by hash only: it now answers for its release.
      this.db.prepare('UPDATE kernels SET answers_release = 1, created_at = ? WHERE btf_sha256 = ?').run(new Date().toISOString(), sha256);
      return { kernel: this.get(sha256)!, created: false };
    }
    const answersRelease = input.source !== 'upload' || input.byAdmin === true || !this.releaseTaken(input.release, input.arch);
    this.db
      .prepare('INSERT OR IGNORE INTO kernels (btf_sha256, release, arch, distro, source, btf_size, created_at, answers_release) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(sha256, input.release, input.arch, input.distro ?? '', input.source, input.btf.length, new Date().toISOString(), answersRelease ? 1 : 0);
    const kernel = this.get(sha256)!;
    for (const listener of this.registeredListeners) listener(kernel);
    return { kernel, created: true };
  }

  /** Calls `listener` after each registration of a kernel the registry did not know (e.g. to index it). */
  onRegistered(listener: (kernel: KernelInfo) => void): void {
    this.registeredListeners.push(listener);
  }

  private validate(btf: Buffer): void {
    validateBtfHeader(btf);
    try {
      (this.options.validateBtf ?? parseBtf)(btf);
    } catch (err) {
      if (err instanceof LbcError) throw err;
      throw new LbcError('LBC_ERR_BTF_INVALID', (err as Error).message, undefined, { cause: err });
    }
  }

  get(btfSha256: string): KernelInfo | null {
    const row = this.db.prepare('SELECT * FROM kernels WHERE btf_sha256 = ?').get(btfSha256) as Row | undefined;
    return row ? toInfo(row) : null;
  }

  list(): KernelInfo[] {
    return (this.db.prepare('SELECT * FROM kernels ORDER BY created_at DESC, release').all() as Row[]).map(toInfo);
  }

  /** The kernel set for a target: exact by BTF hash, else the newest with the same release and arch (and distro when given). */
  resolve(target: CompileTarget): KernelInfo {
    const found = target.btfSha256 ? this.get(target.btfSha256) : this.byRelease(target);
    if (found && found.arch === target.arch) return found;
    const suggestions = this.nearest(target);
    const what = target.btfSha256 ? `btfSha256 ${target.btfSha256}` : `${target.release} ${target.arch}${target.distro ? ` (${target.distro})` : ''}`;
    throw new LbcError('LBC_ERR_KERNEL_UNKNOWN', what, {
      target,
      suggestions: suggestions.map((k) => ({ btfSha256: k.btfSha256, release: k.release, arch: k.arch, distro: k.distro })),
    });
  }

  /** Up to `limit` kernels of the same arch, closest release first. */
  nearest(target: Pick<CompileTarget, 'release' | 'arch'>, limit = 5): KernelInfo[] {
    return rankByNearness(target.release, this.list().filter((k) => k.arch === target.arch)).slice(0, limit);
  }

  readBtf(btfSha256: string): Buffer | null {
    const read = this.blobs.read(btfSha256);
    return read.status === 'ok' ? read.bytes : null;
  }

  /** Puts a kernel's BTF back into Redis when it is gone (Redis flushed or replaced). */
  async ensureShared(btfSha256: string): Promise<void> {
    if (await this.guard(hasSharedBtf(this.redis, btfSha256), 'checking BTF')) return;
    const btf = this.readBtf(btfSha256);
    if (!btf) throw new LbcError('LBC_ERR_INTERNAL', `the BTF blob of kernel ${btfSha256} is missing or corrupt; upload it again`);
    await this.guard(putSharedBtf(this.redis, btfSha256, btf), 'publishing BTF');
  }

  /** At startup: every kernel in SQLite is published again, in case Redis lost it. */
  async republishAll(): Promise<number> {
    let count = 0;
    for (const k of this.list()) {
      await this.ensureShared(k.btfSha256);
      count++;
    }
    return count;
  }

  /** A release someone already answers for: an upload by a non-admin may not take it over. */
  private releaseTaken(release: string, arch: string): boolean {
    return this.db.prepare('SELECT 1 FROM kernels WHERE release = ? AND arch = ? AND answers_release = 1 LIMIT 1').get(release, arch) !== undefined;
  }

  private byRelease(target: CompileTarget): KernelInfo | null {
    const row = (
      target.distro
        ? this.db.prepare('SELECT * FROM kernels WHERE release = ? AND arch = ? AND distro = ? AND answers_release = 1 ORDER BY created_at DESC, rowid DESC LIMIT 1').get(target.release, target.arch, target.distro)
        : this.db.prepare('SELECT * FROM kernels WHERE release = ? AND arch = ? AND answers_release = 1 ORDER BY created_at DESC, rowid DESC LIMIT 1').get(target.release, target.arch)
    ) as Row | undefined;
    return row ? toInfo(row) : null;
  }
}
