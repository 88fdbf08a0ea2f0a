/**
 * The farm's content-addressed blob store (sha256 → bytes): compiled objects, minimized BTF,
 * kernel BTF, kernel packages and boot images. Every node keeps what it wrote or read on its own disk (BlobStore, verified on every
 * read). Across hosts a blob is found by hash:
 *  - by default, from the node that holds it: Redis keeps a small location record (which node URLs
 *    hold sha X, blob-keys.ts) and nodes serve blobs over HTTP with the farm secret (blob-access.ts);
 *  - when the farm configures an S3-compatible store (LBC_BLOB_S3_*), from that bucket.
 * Bytes fetched from elsewhere are verified against their hash before they are kept or returned:
 * a corrupt copy is refused (and the next holder asked), never served.
 * Small blobs go as Buffers (put/get); large ones (kernel packages, boot images) as files, streamed both ways
 * and hashed on the way (publishFile/fetchFile), never whole in memory.
 *
 * A location record lives as long as the farm keeps the references that lead to it (a compile's
 * record in Redis, LBC_SHARED_ARTIFACT_TTL_SECONDS, 7 days by default), renewed whenever a node
 * writes, fetches or serves the blob: Redis stays flat however many objects the farm has made.
 * A record that lapsed means "not found": the object is compiled again, a kernel's BTF is
 * published again by the API before its next compile (KernelRegistry.ensureShared), a registered
 * kernel's boot image is announced again by every API node keeping it, at start and before each
 * verify job (KernelRegistry.shareBootImage), and a package still waiting for its ingestion is
 * announced again when its API node starts.
 */
import { promises as fsp } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Redis } from 'ioredis';
import { isLoopbackAddress } from '../config.ts';
import { ensureFarmSecret } from '../ingest/package-access.ts';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, blobToken } from './blob-access.ts';
import { redisKey } from '../redis/redis-keys.ts';
import { sha256Of, type BlobStore } from './blob-store.ts';
import { BlobTransferError, fetchVerified, receiveVerified, type TransferBounds } from './blob-transfer.ts';
import type { S3Blobs } from './s3-blobs.ts';
import { stageMark } from '../stage-timing.ts';

/** How long a location record lives unless renewed: as long as a compile's record (LBC_SHARED_ARTIFACT_TTL_SECONDS' default). */
export const BLOB_LOCATION_TTL_SECONDS = 7 * 24 * 3600;

export interface FarmBlobsOptions {
  disk: BlobStore;
  /** Location records (default mode) and the farm secret. */
  redis: Redis;
  /** The farm's S3-compatible store, when configured: then no location records are kept. */
  s3?: S3Blobs;
  /** Bound of one fetch from another node. */
  fetchTimeoutMs?: number;
  /** Life of a location record since it was last renewed (BLOB_LOCATION_TTL_SECONDS by default). */
  locationTtlSeconds?: number;
  /** Most bytes get() reads into memory from another node or the S3 store (MAX_BUFFERED_BLOB_BYTES by default). */
  maxBufferedBytes?: number;
}

/**
 * What get() holds in memory at most: far above any object or kernel BTF (a few MB), far below
 * what would hurt a node. A holder answering more (a stale record naming a reused port, a hostile
 * node) is cut off there and the next holder asked; large blobs go through fetchFile.
 */
export const MAX_BUFFERED_BLOB_BYTES = 256 * 1024 * 1024;

export class FarmBlobs {
  private selfUrl: string | undefined;
  /** Written before this node served blobs: announced once it does. */
  private readonly unannounced = new Set<string>();

  constructor(private readonly opts: FarmBlobsOptions) {}

  get disk(): BlobStore {
    return this.opts.disk;
  }

  get mode(): 's3' | 'nodes' {
    return this.opts.s3 ? 's3' : 'nodes';
  }

  /** This node serves its blobs at url (blob-access.ts): from now on it is named as their holder. */
  async serveAt(url: string): Promise<void> {
    this.selfUrl = url;
    for (const sha256 of [...this.unannounced]) {
      await this.announce(sha256);
      this.unannounced.delete(sha256);
    }
  }

  /** Stores bytes under their hash, here and where other nodes find them; returns the hash. */
  async put(bytes: Buffer): Promise<string> {
    stageMark('blobs.put');
    const sha256 = sha256Of(bytes);
    // Published again (a kernel's BTF on every start): the intact copy on disk is not rewritten.
    if (this.opts.disk.read(sha256).status !== 'ok') this.opts.disk.put(bytes);
    if (this.opts.s3) await this.opts.s3.put(sha256, bytes);
    else await this.announce(sha256);
    stageMark('blobs.put-done');
    return sha256;
  }

  /** The verified bytes of a hash: this node's disk, else the S3 store or a node holding it; null when nowhere. */
  async get(sha256: string): Promise<Buffer | null> {
    stageMark('blobs.get');
    const local = this.opts.disk.read(sha256);
    stageMark('blobs.get-done', local.status);
    if (local.status === 'ok') return local.bytes;
    const bytes = this.opts.s3 ? await this.fromS3(sha256) : await this.fromNodes(sha256);
    if (!bytes) return null;
    this.opts.disk.put(bytes);
    if (!this.opts.s3) await this.announce(sha256);
    return bytes;
  }

  /** Whether other nodes can find the hash (a holder is on record, or the S3 store has it), without fetching it. */
  async has(sha256: string): Promise<boolean> {
    if (this.opts.s3) return this.opts.s3.has(sha256);
    if (this.unannounced.has(sha256)) return true;
    return (await this.opts.redis.scard(redisKey.blobLocation(sha256))) > 0;
  }

  /**
   * A file already under its hash on this node's disk (BlobStore.adopt; hashed by whoever received
   * it) made findable: uploaded to the S3 store as a stream, or this node named as its holder.
   */
  async publishFile(sha256: string): Promise<void> {
    if (!this.opts.s3) return this.announce(sha256);
    // Already there (published before this node restarted): an S3 object is whole or absent.
    if (await this.opts.s3.has(sha256)) return;
    const { size } = await fsp.stat(this.opts.disk.pathOf(sha256));
    await this.opts.s3.putFile(sha256, this.opts.disk.pathOf(sha256), size);
  }

  /**
   * The path of a verified file of the hash: this node's own copy, else streamed from the S3 store
   * or a node that holds it (hashed on the way; a forged or corrupt copy is refused and the next
   * holder asked). A copy brought here is kept in this node's store (and announced), or with
   * `into`, written to that path only: a working copy (a package a worker ingests once) the caller
   * removes. fetched: it was brought here. Throws a BlobTransferError saying what each source
   * answered; retryable when one may answer later.
   */
  async fetchFile(sha256: string, bounds: Omit<TransferBounds, 'sha256'> = {}, into?: string): Promise<{ path: string; fetched: boolean }> {
    const local = await this.opts.disk.verifyFile(sha256);
    if (local.status === 'ok') return { path: local.path, fetched: false };
    const want = { ...bounds, sha256 };
    const dest = () => into ?? this.opts.disk.incomingPath(sha256);
    const keep = async (file: string) => {
      if (into) return file;
      const path = await this.opts.disk.adopt(file, sha256);
      if (!this.opts.s3) await this.announce(sha256);
      return path;
    };
    if (this.opts.s3) {
      const s3 = this.opts.s3;
      const from = `the S3 store (${s3.settings.bucket})`;
      const source = async (signal: AbortSignal) => {
        const got = await s3.getStream(sha256, signal);
        if (!got) throw new BlobTransferError(`${from} holds no ${sha256}`, false);
        return got.body;
      };
      const file = dest();
      await receiveVerified(source, from, file, want);
      return { path: await keep(file), fetched: true };
    }
    const key = redisKey.blobLocation(sha256);
    const holders = (await this.opts.redis.smembers(key)).filter((url) => url !== this.selfUrl);
    if (this.selfUrl) await this.opts.redis.srem(key, this.selfUrl);
    if (holders.length === 0) throw new BlobTransferError(`no node is on record as holding ${sha256}`, true);
    const secret = await ensureFarmSecret(this.opts.redis);
    const failures: BlobTransferError[] = [];
    for (const url of holders) {
      const file = dest();
      try {
        await fetchVerified(`${url}${BLOB_PATH_PREFIX}${sha256}`, { [BLOB_TOKEN_HEADER]: blobToken(secret, sha256) }, file, want);
      } catch (err) {
        if (!(err instanceof BlobTransferError)) throw err;
        if (err.gone) await this.opts.redis.srem(key, url);
        failures.push(err);
        continue;
      }
      return { path: await keep(file), fetched: true };
    }
    throw new BlobTransferError(failures.map((f) => f.message).join('; '), failures.some((f) => f.retryable));
  }

  /**
   * Removes the blob from this node's disk and its name from the record; everywhere: the whole
   * record and the S3 object too (what no node needs any more, such as an ingested package).
   */
  async drop(sha256: string, opts: { everywhere?: boolean } = {}): Promise<void> {
    this.opts.disk.delete(sha256);
    this.unannounced.delete(sha256);
    if (opts.everywhere) {
      await this.opts.redis.del(redisKey.blobLocation(sha256));
      await this.opts.s3?.delete(sha256);
    } else if (this.selfUrl && !this.opts.s3) {
      await this.opts.redis.srem(redisKey.blobLocation(sha256), this.selfUrl);
    }
  }

  /** This node just served the blob to a peer: it holds it, so its record lives on. */
  async served(sha256: string): Promise<void> {
    if (!this.opts.s3 && this.selfUrl) await this.announce(sha256);
  }

  close(): void {
    this.opts.s3?.close();
  }

  private async announce(sha256: string): Promise<void> {
    if (!this.selfUrl) {
      this.unannounced.add(sha256);
      return;
    }
    const key = redisKey.blobLocation(sha256);
    await this.opts.redis
      .multi()
      .sadd(key, this.selfUrl)
      .expire(key, this.opts.locationTtlSeconds ?? BLOB_LOCATION_TTL_SECONDS)
      .exec();
  }

  private async fromS3(sha256: string): Promise<Buffer | null> {
    const found = await this.opts.s3!.getStream(sha256);
    if (!found) return null;
    const bytes = await this.readBounded(found.body, found.size);
    return bytes && sha256Of(bytes) === sha256 ? bytes : null;
  }

  /** A body read into memory up to maxBufferedBytes; null (the rest left unread) when it states or sends more. */
  private async readBounded(body: AsyncIterable<Uint8Array> & { destroy?: () => void }, statedSize?: number): Promise<Buffer | null> {
    const max = this.opts.maxBufferedBytes ?? MAX_BUFFERED_BLOB_BYTES;
    const cut = () => {
      body.destroy?.();
      return null;
    };
    if (statedSize !== undefined && statedSize > max) return cut();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > max) return cut();
        chunks.push(chunk);
      }
    } catch {
      return null;
    }
    return Buffer.concat(chunks);
  }

  private async fromNodes(sha256: string): Promise<Buffer | null> {
    const key = redisKey.blobLocation(sha256);
    const holders = await this.opts.redis.smembers(key);
    if (holders.length === 0) return null;
    // Made again if Redis lost it (restarted empty): SET NX, so every node agrees on the new one.
    const secret = await ensureFarmSecret(this.opts.redis);
    for (const url of holders) {
      // This node's own disk missed (or dropped a corrupt copy) above: it holds it no longer.
      if (url === this.selfUrl) {
        await this.opts.redis.srem(key, url);
        continue;
      }
      let res: Response;
      try {
        res = await fetch(`${url}${BLOB_PATH_PREFIX}${sha256}`, {
          headers: { [BLOB_TOKEN_HEADER]: blobToken(secret, sha256) },
          signal: AbortSignal.timeout(this.opts.fetchTimeoutMs ?? 30_000),
        });
      } catch {
        // Unreachable now (down, restarting, cut off): its record stays for when it is back.
        continue;
      }
      if (res.status === 404) {
        await res.body?.cancel();
        await this.opts.redis.srem(key, url);
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        continue;
      }
      const stated = res.headers.get('content-length');
      const bytes = res.body ? await this.readBounded(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), stated === null ? undefined : Number(stated)) : Buffer.alloc(0);
      // Too large, or changed on the way: never kept, never served; the next holder may have it intact.
      if (bytes && sha256Of(bytes) === sha256) return bytes;
    }
    return null;
  }
}

/**
 * The URL other nodes reach this node's blob endpoint at: LBC_ADVERTISE_URL when set, the address
 * it listens on when that is one address, else the address this node reaches Redis from (a farm's
 * nodes share the network Redis is on; with Redis on this host, this host's first outside
 * address). Call once Redis is connected.
 */
export function blobNodeUrl(redis: Redis, port: number, opts: { advertiseUrl?: string; scheme?: 'http' | 'https'; listenHost?: string } = {}): string {
  if (opts.advertiseUrl) return opts.advertiseUrl.replace(/\/+$/, '');
  const host = blobNodeHost(redis, opts.listenHost);
  return `${opts.scheme ?? 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The address part of blobNodeUrl (without brackets). */
export function blobNodeHost(redis: Redis, listenHost?: string): string {
  const wildcard = !listenHost || ['0.0.0.0', '::', '[::]'].includes(listenHost);
  if (!wildcard) return listenHost === 'localhost' ? '127.0.0.1' : listenHost.replace(/^\[|\]$/g, '');
  const local = redis.stream?.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
  if (local && !isLoopbackAddress(local)) return local;
  return outsideAddress() ?? '127.0.0.1';
}

function outsideAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}
