/**
 * The struct/func/type catalog of every registered kernel. A catalog is built from the kernel's
 * BTF the first time it is asked for (or when prebuild() is called, e.g. after an ingestion), in
 * a worker thread: a vmlinux BTF takes seconds to index and the API's event loop must not stall.
 * One build per BTF at a time (concurrent askers share it); the file appears complete or not at
 * all, and two kernels with identical BTF share it (it is named by the BTF sha256).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LbcError, type KernelInfo } from '@lbc/contract';
import type { KernelRegistry } from '../kernels/registry.ts';
import type { Db } from '../store/database.ts';
import { ownerTagGone } from '../owner-alive.ts';
import type { CatalogBuildStats } from './build-catalog.ts';
import { CatalogReader } from './catalog-reader.ts';
import { CATALOG_SCHEMA_VERSION } from './catalog-schema.ts';
import { runCatalogWorker } from './run-catalog-worker.ts';

export interface KernelCatalogOptions {
  /** Where finished builds are recorded (kernel_catalogs); without it the stats come from the catalog file alone. */
  db?: Db;
  registry: KernelRegistry;
  /** Where catalog files live (<dataDir>/catalog). */
  dir: string;
  /** How long a query waits for a catalog being built before answering LBC_ERR_CATALOG_BUILDING. */
  waitMs?: number;
  /** A build running longer than this is abandoned. */
  buildTimeoutMs?: number;
  /** Catalog files kept open at once (least recently used closed first). */
  maxOpen?: number;
}

export type CatalogState = { state: 'ready'; fileBytes: number; stats?: CatalogRecord } | { state: 'building' } | { state: 'absent' };

export interface CatalogRecord {
  types: number;
  structs: number;
  members: number;
  funcs: number;
  fileBytes: number;
  buildMs: number;
  builtAt: string;
}

export class KernelCatalog {
  private readonly builds = new Map<string, Promise<CatalogBuildStats | null>>();
  private readonly readers = new Map<string, CatalogReader>();
  private readonly waitMs: number;
  private readonly buildTimeoutMs: number;
  private readonly maxOpen: number;

  constructor(private readonly options: KernelCatalogOptions) {
    mkdirSync(options.dir, { recursive: true });
    sweepCatalogDir(options.dir);
    this.waitMs = options.waitMs ?? 30_000;
    this.buildTimeoutMs = options.buildTimeoutMs ?? 300_000;
    this.maxOpen = options.maxOpen ?? 8;
  }

  /** A kernel by full BTF sha256, a unique prefix of one (4+ hex digits), or its release (KernelRegistry.resolveId). */
  resolveKernel(id: string): KernelInfo {
    return this.options.registry.resolveId(id);
  }

  /** The catalog of a kernel (see resolveKernel for `id`), built first when it does not exist yet. */
  async reader(id: string): Promise<CatalogReader> {
    const kernel = this.resolveKernel(id);
    const sha = kernel.btfSha256;
    const open = this.readers.get(sha);
    if (open) {
      // Re-insert: Map order is the LRU order.
      this.readers.delete(sha);
      this.readers.set(sha, open);
      return open;
    }
    if (!existsSync(this.pathOf(sha))) await this.waitForBuild(sha);
    const reader = new CatalogReader(this.pathOf(sha), sha);
    this.readers.set(sha, reader);
    while (this.readers.size > this.maxOpen) {
      const [oldest, r] = this.readers.entries().next().value!;
      this.readers.delete(oldest);
      r.close();
    }
    return reader;
  }

  /**
   * Indexes kernels as they are uploaded or ingested, in the background: someone who adds a kernel
   * is likely to ask about it. The host kernel, registered at every start, waits for its first
   * query instead (indexing costs seconds of CPU a fresh service should spend on compiles).
   */
  followRegistrations(onError: (err: unknown, kernel: KernelInfo) => void = () => {}): void {
    this.options.registry.onRegistered((kernel) => {
      if (kernel.source === 'host') return;
      this.prebuild(kernel.btfSha256).catch((err: unknown) => onError(err, kernel));
    });
  }

  /** Builds the catalog unless it exists; resolves with the build's stats, or null when there was nothing to do. */
  prebuild(btfSha256: string): Promise<CatalogBuildStats | null> {
    let build = this.builds.get(btfSha256);
    if (!build) {
      build = this.build(btfSha256).finally(() => this.builds.delete(btfSha256));
      this.builds.set(btfSha256, build);
    }
    return build;
  }

  state(btfSha256: string): CatalogState {
    if (this.builds.has(btfSha256)) return { state: 'building' };
    const path = this.pathOf(btfSha256);
    if (!existsSync(path)) return { state: 'absent' };
    const row = this.options.db
      ?.prepare('SELECT types, structs, members, funcs, file_bytes, build_ms, built_at FROM kernel_catalogs WHERE btf_sha256 = ? AND schema_version = ?')
      .get(btfSha256, CATALOG_SCHEMA_VERSION) as { types: number; structs: number; members: number; funcs: number; file_bytes: number; build_ms: number; built_at: string } | undefined;
    const stats = row && { types: row.types, structs: row.structs, members: row.members, funcs: row.funcs, fileBytes: row.file_bytes, buildMs: row.build_ms, builtAt: row.built_at };
    return { state: 'ready', fileBytes: statSync(path).size, ...(stats ? { stats } : {}) };
  }

  pathOf(btfSha256: string): string {
    return join(this.options.dir, `${btfSha256}.v${CATALOG_SCHEMA_VERSION}.sqlite`);
  }

  /** Waits for running builds to settle (they cannot be interrupted halfway) and closes open catalogs. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.builds.values()]);
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }

  private async waitForBuild(sha: string): Promise<void> {
    const build = this.prebuild(sha);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.waitMs);
    });
    try {
      const outcome = await Promise.race([build, timeout]);
      if (outcome === 'timeout') {
        throw new LbcError('LBC_ERR_CATALOG_BUILDING', `kernel ${sha.slice(0, 12)} is still being indexed`, { kernel: sha, retryAfterSeconds: 5 });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async build(sha: string): Promise<CatalogBuildStats | null> {
    const outPath = this.pathOf(sha);
    if (existsSync(outPath)) return null;
    const btf = this.options.registry.readBtf(sha);
    if (!btf) throw new LbcError('LBC_ERR_CATALOG_FAILED', `the BTF blob of kernel ${sha} is missing or corrupt`, { kernel: sha });
    const started = performance.now();
    let stats: CatalogBuildStats;
    try {
      stats = await runCatalogWorker({ btf, outPath, btfSha256: sha }, this.buildTimeoutMs);
    } catch (err) {
      throw new LbcError('LBC_ERR_CATALOG_FAILED', `kernel ${sha.slice(0, 12)}: ${(err as Error).message}`, { kernel: sha }, { cause: err });
    }
    const buildMs = Math.round(performance.now() - started);
    this.options.db
      ?.prepare('INSERT OR REPLACE INTO kernel_catalogs (btf_sha256, schema_version, types, structs, members, funcs, file_bytes, build_ms, built_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(sha, CATALOG_SCHEMA_VERSION, stats.types, stats.structs, stats.members, stats.funcs, statSync(outPath).size, buildMs, new Date().toISOString());
    return stats;
  }
}

const CATALOG_FILE = /^[0-9a-f]{64}\.v(\d+)\.sqlite$/;
const TEMP_FILE = /^\.[0-9a-f]{64}\.(\d+(?:-\d+)?)\.[0-9a-f]+\.tmp$/;

/**
 * Catalogs of an older schema are rebuilt on demand, so their files go; so do the temp files of
 * builds whose process died (a live process sharing the directory may still be writing its own).
 */
function sweepCatalogDir(dir: string): void {
  for (const name of readdirSync(dir)) {
    const version = CATALOG_FILE.exec(name)?.[1];
    const owner = TEMP_FILE.exec(name)?.[1];
    const stale = (version !== undefined && Number(version) !== CATALOG_SCHEMA_VERSION) || (owner !== undefined && ownerTagGone(owner));
    if (stale) rmSync(join(dir, name), { force: true });
  }
}

