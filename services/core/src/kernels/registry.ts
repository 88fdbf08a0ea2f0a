/**
 * The kernels the service can compile against. A kernel is registered from its raw BTF: the hash
 * is checked, the BTF validated, the blob stored, a row written, and the BTF published to Redis so
 * any worker can build the kernel set from the hash alone.
 */
import type { Redis } from 'ioredis';
import { ARCHES, LbcError, type Arch, type BootImageRef, type CompileTarget, type KernelInfo } from '@lbc/contract';
import type { Db } from '../store/database.ts';
import { sha256Of, type BlobStore } from '../store/blob-store.ts';
import { checkBtfInThread, type BtfCheckLimits } from './btf-check.ts';
import { hasSharedBtf, putSharedBtf } from './btf-store.ts';
import { FarmBlobs } from '../store/farm-blobs.ts';
import { validateBtfHeader } from './btf-validate.ts';
import { rankByNearness } from './registry-nearest.ts';
import { newestHeader } from './core-header.ts';

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
  boot_image_sha256: string;
  boot_image_size: number;
  answers_release: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
const SHA256_PREFIX = /^[0-9a-f]{4,63}$/;

function ambiguous(id: string, kernels: KernelInfo[], fix: string): LbcError {
  return new LbcError('LBC_ERR_KERNEL_AMBIGUOUS', `${JSON.stringify(id)} matches ${kernels.length} kernels; give ${fix}`, {
    id,
    candidates: kernels.map(suggestion),
  });
}

const suggestion = (k: KernelInfo) => ({ btfSha256: k.btfSha256, release: k.release, arch: k.arch, distro: k.distro });

const toInfo = (r: Row): KernelInfo => ({
  btfSha256: r.btf_sha256,
  release: r.release,
  arch: r.arch as Arch,
  distro: r.distro,
  source: r.source,
  btfSize: r.btf_size,
  createdAt: r.created_at,
  answersForRelease: r.answers_release !== 0,
  bootable: r.boot_image_sha256 !== '',
  ...(r.boot_image_sha256 ? { bootImage: { sha256: r.boot_image_sha256, size: r.boot_image_size } } : {}),
});

export interface KernelRegistryOptions {
  /**
   * Full BTF check after the header check: by default @lbc/btf's parser in a worker thread under
   * a heap cap and a time limit (btf-check.ts), never on the caller's event loop.
   */
  validateBtf?: (btf: Buffer) => void | Promise<unknown>;
  /** Limits of the default check's thread. */
  btfCheck?: BtfCheckLimits;
  /** Where kernel BTF is published for the workers; by default the blob store over this node's disk and Redis. */
  farmBlobs?: FarmBlobs;
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
    this.farmBlobs = options.farmBlobs ?? new FarmBlobs({ disk: blobs, redis });
  }

  /** The farm blob store kernel BTF is published in (objects go there too). */
  readonly farmBlobs: FarmBlobs;

  async register(input: RegisterKernelInput): Promise<{ kernel: KernelInfo; created: boolean }> {
    const sha256 = sha256Of(input.btf);
    if (input.expectedSha256 && input.expectedSha256 !== sha256) {
      throw new LbcError('LBC_ERR_BTF_HASH_MISMATCH', `got ${sha256}`, { expected: input.expectedSha256, actual: sha256 });
    }
    if (!(ARCHES as readonly string[]).includes(input.arch)) throw new LbcError('LBC_ERR_BAD_REQUEST', `unknown arch ${JSON.stringify(input.arch)}`, { field: 'arch' });
    const existing = this.get(sha256);
    // Same hash, same bytes: a known kernel was parsed when it was first registered (a full parse
    // of a vmlinux BTF takes a few hundred ms, too long to repeat on every start).
    if (!existing) await this.validate(input.btf);
    await this.guard(putSharedBtf(this.farmBlobs, sha256, input.btf), 'publishing BTF');
    if (existing) {
      if (existing.answersForRelease || (input.source === 'upload' && !input.byAdmin)) return { kernel: existing, created: false };
      // An admin (or the host, or a package) vouches for an upload kept by hash only: it now answers
      // for its release, as its newest kernel. Its time is past every other claim's, even one made
      // in the same millisecond (the newest answers: created_at, then rowid, which a vouched row keeps).
      const latest = (this.db.prepare('SELECT MAX(created_at) AS at FROM kernels WHERE release = ? AND arch = ?').get(existing.release, existing.arch) as { at: string | null }).at;
      const at = new Date(Math.max(Date.now(), latest ? Date.parse(latest) + 1 : 0)).toISOString();
      this.db.prepare('UPDATE kernels SET answers_release = 1, created_at = ? WHERE btf_sha256 = ?').run(at, sha256);
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

  private async validate(btf: Buffer): Promise<void> {
    validateBtfHeader(btf);
    try {
      await (this.options.validateBtf ?? ((bytes: Buffer) => checkBtfInThread(bytes, this.options.btfCheck)))(btf);
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

  /**
   * The kernel set for a target: exact by BTF hash, else the newest with the same release (and
   * distro when given) on the target's arch. A target without an arch takes the release on
   * whichever arch has it; a release known for several arches is LBC_ERR_KERNEL_AMBIGUOUS naming them.
   */
  resolve(target: CompileTarget): KernelInfo {
    if (target.btfSha256) {
      const found = this.get(target.btfSha256);
      if (found && (!target.arch || found.arch === target.arch)) return found;
      throw this.unknown(target, `btfSha256 ${target.btfSha256}${target.arch ? ` (${target.arch})` : ''}`);
    }
    const sameRelease = this.byRelease(target);
    const arches = [...new Set(sameRelease.map((k) => k.arch))];
    const what = `${target.release}${target.distro ? ` (${target.distro})` : ''}`;
    if (target.arch) {
      const found = sameRelease.find((k) => k.arch === target.arch);
      if (found) return found;
      const elsewhere = arches.length > 0 ? `; the service has this release for ${arches.join(' and ')} only (give that arch)` : '';
      throw this.unknown(target, `${what} ${target.arch}${elsewhere}`, arches);
    }
    if (arches.length === 1) return sameRelease[0]!;
    if (arches.length > 1) {
      throw new LbcError('LBC_ERR_KERNEL_AMBIGUOUS', `release ${what} is known for ${arches.join(' and ')}; give the arch (--arch ${arches.join(' or --arch ')})`, {
        target,
        arches,
        candidates: arches.map((arch) => suggestion(sameRelease.find((k) => k.arch === arch)!)),
      });
    }
    throw this.unknown(target, `${what} (any arch)`);
  }

  /** The header a CO-RE compile for `target` uses: the newest trusted kernel of its arch (core-header.ts). */
  coreHeader(target: KernelInfo): KernelInfo {
    const rows = this.db.prepare("SELECT * FROM kernels WHERE arch = ? AND source IN ('host', 'package')").all(target.arch) as Row[];
    return newestHeader(rows.map(toInfo), target.arch, target);
  }

  /**
   * A kernel by full BTF sha256, a unique prefix of one (4+ hex digits), or its release (as the
   * catalog, lbc struct --kernel and lbc verify --kernel name them). A release names the kernels that
   * answer for it (an upload kept by hash only does not); of several uploads of one release and
   * arch the newest wins, as in compiles.
   */
  resolveId(id: string): KernelInfo {
    const wanted = id.trim();
    const exact = SHA256.test(wanted) ? this.get(wanted) : null;
    if (exact) return exact;
    const kernels = this.list();
    const byPrefix = SHA256_PREFIX.test(wanted) ? kernels.filter((k) => k.btfSha256.startsWith(wanted)) : [];
    if (byPrefix.length === 1) return byPrefix[0]!;
    if (byPrefix.length > 1) throw ambiguous(wanted, byPrefix, 'a longer prefix of the BTF sha256');
    const byRelease = kernels.filter((k) => k.release === wanted && k.answersForRelease !== false);
    if (byRelease.length > 0 && new Set(byRelease.map((k) => k.arch)).size === 1) return byRelease[0]!;
    if (byRelease.length > 1) throw ambiguous(wanted, byRelease, 'the BTF sha256 of the one you mean');
    const suggestions = rankByNearness(wanted, kernels).slice(0, 5);
    throw new LbcError('LBC_ERR_KERNEL_UNKNOWN', `no kernel with BTF sha256, sha256 prefix or release ${JSON.stringify(wanted)}`, {
      id: wanted,
      suggestions: suggestions.map(suggestion),
    });
  }

  /** LBC_ERR_KERNEL_UNKNOWN with the nearest kernels of every arch as suggestions. */
  private unknown(target: CompileTarget, what: string, arches: string[] = []): LbcError {
    return new LbcError('LBC_ERR_KERNEL_UNKNOWN', what, { target, ...(arches.length ? { arches } : {}), suggestions: this.nearest(target).map(suggestion) });
  }

  /** Up to `limit` kernels of any arch, closest release first (the target's arch first among equals). */
  nearest(target: Pick<CompileTarget, 'release' | 'arch'>, limit = 5): KernelInfo[] {
    const ranked = rankByNearness(target.release, this.list());
    const exact = ranked.filter((k) => k.release === target.release);
    const sameArchFirst = (a: KernelInfo, b: KernelInfo) => Number(b.arch === target.arch) - Number(a.arch === target.arch);
    return [...exact.sort(sameArchFirst), ...ranked.filter((k) => k.release !== target.release)].slice(0, limit);
  }

  /**
   * Makes a kernel set bootable: its image is already on this node's disk (fetchBootImage, when the
   * ingestion completes). A later package of the same kernel (same BTF) may bring the image to a
   * kernel registered without one.
   */
  attachBootImage(btfSha256: string, image: BootImageRef): KernelInfo {
    if (!this.blobs.has(image.sha256)) throw new LbcError('LBC_ERR_INTERNAL', `the boot image ${image.sha256} of kernel ${btfSha256} is not in this node's blob store`);
    this.db.prepare('UPDATE kernels SET boot_image_sha256 = ?, boot_image_size = ? WHERE btf_sha256 = ?').run(image.sha256, image.size, btfSha256);
    return this.get(btfSha256)!;
  }

  hasBlob(sha256: string): boolean {
    return this.blobs.has(sha256);
  }

  /** Stores a boot image's bytes (content-addressed, beside the BTF blobs); the kernel row is not touched. */
  putBootImage(bytes: Buffer): BootImageRef {
    return { sha256: this.blobs.put(bytes), size: bytes.length };
  }

  /**
   * A boot image the ingest worker published, by hash (this node's disk, the node holding it, or
   * the S3 store; streamed and verified, a corrupt copy refused), kept on this node's disk and this
   * node named as a holder: the API node keeps every registered kernel's image, as it keeps its
   * BTF, so the image outlives the worker that ingested it (workers come and go, with their disks).
   */
  async fetchBootImage(image: BootImageRef): Promise<void> {
    await this.farmBlobs.fetchFile(image.sha256, { size: image.size });
    await this.guard(this.farmBlobs.publishFile(image.sha256), 'publishing the boot image');
  }

  /**
   * Keeps a bootable kernel's image findable by verify workers on any host: this node named as its
   * holder again (the location record renewed for another LBC_SHARED_ARTIFACT_TTL_SECONDS), or the
   * S3 store given it again if it lost it. At start (republishAll) and before every verify job.
   */
  async shareBootImage(btfSha256: string): Promise<void> {
    const image = this.get(btfSha256)?.bootImage;
    if (!image || !this.blobs.has(image.sha256)) return;
    await this.guard(this.farmBlobs.publishFile(image.sha256), 'publishing the boot image');
  }

  /** The path of a bootable kernel's image on this node, or null. */
  bootImagePath(btfSha256: string): string | null {
    const image = this.get(btfSha256)?.bootImage;
    return image && this.blobs.has(image.sha256) ? this.blobs.pathOf(image.sha256) : null;
  }

  readBtf(btfSha256: string): Buffer | null {
    const read = this.blobs.read(btfSha256);
    return read.status === 'ok' ? read.bytes : null;
  }

  /** Publishes a kernel's BTF again when no node is on record for it (Redis flushed or replaced). */
  async ensureShared(btfSha256: string): Promise<void> {
    if (await this.guard(hasSharedBtf(this.farmBlobs, btfSha256), 'checking BTF')) return;
    const btf = this.readBtf(btfSha256);
    if (!btf) throw new LbcError('LBC_ERR_INTERNAL', `the BTF blob of kernel ${btfSha256} is missing or corrupt; upload it again`);
    await this.guard(putSharedBtf(this.farmBlobs, btfSha256, btf), 'publishing BTF');
  }

  /** At startup: every kernel in SQLite is published again (its BTF, its boot image), in case Redis lost it or the records lapsed. */
  async republishAll(): Promise<number> {
    let count = 0;
    for (const k of this.list()) {
      await this.ensureShared(k.btfSha256);
      await this.shareBootImage(k.btfSha256);
      count++;
    }
    return count;
  }

  /** A release someone already answers for: an upload by a non-admin may not take it over. */
  private releaseTaken(release: string, arch: string): boolean {
    return this.db.prepare('SELECT 1 FROM kernels WHERE release = ? AND arch = ? AND answers_release = 1 LIMIT 1').get(release, arch) !== undefined;
  }

  /** Kernels answering for the target's release (and distro when given), newest first, on every arch. */
  private byRelease(target: CompileTarget): KernelInfo[] {
    const rows = (
      target.distro
        ? this.db.prepare('SELECT * FROM kernels WHERE release = ? AND distro = ? AND answers_release = 1 ORDER BY created_at DESC, rowid DESC').all(target.release, target.distro)
        : this.db.prepare('SELECT * FROM kernels WHERE release = ? AND answers_release = 1 ORDER BY created_at DESC, rowid DESC').all(target.release)
    ) as Row[];
    return rows.map(toInfo);
  }
}
