/**
 * The farm's content-addressed blob store (sha256 → bytes): compiled objects, minimized BTF and
 * kernel BTF. Every node keeps what it wrote or read on its own disk (BlobStore, verified on every
 * read). Across hosts a blob is found by hash:
 *  - by default, from the node that holds it: Redis keeps a small location record (which node URLs
 *    hold sha X, blob-keys.ts) and nodes serve blobs over HTTP with the farm secret (blob-access.ts);
 *  - when the farm configures an S3-compatible store (LBC_BLOB_S3_*), from that bucket.
 * Bytes fetched from elsewhere are verified against their hash before they are kept or returned:
 * a corrupt copy is refused (and the next holder asked), never served.
 */
import { networkInterfaces } from 'node:os';
import type { Redis } from 'ioredis';
import { isLoopbackAddress } from '../config.ts';
import { ensureFarmSecret } from '../ingest/package-access.ts';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, blobToken } from './blob-access.ts';
import { redisKey } from '../redis/redis-keys.ts';
import { sha256Of, type BlobStore } from './blob-store.ts';
import type { S3Blobs } from './s3-blobs.ts';
import { stageMark } from '../stage-timing.ts';

export interface FarmBlobsOptions {
  disk: BlobStore;
  /** Location records (default mode) and the farm secret. */
  redis: Redis;
  /** The farm's S3-compatible store, when configured: then no location records are kept. */
  s3?: S3Blobs;
  /** Bound of one fetch from another node. */
  fetchTimeoutMs?: number;
}

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

  close(): void {
    this.opts.s3?.close();
  }

  private async announce(sha256: string): Promise<void> {
    if (!this.selfUrl) {
      this.unannounced.add(sha256);
      return;
    }
    await this.opts.redis.sadd(redisKey.blobLocation(sha256), this.selfUrl);
  }

  private async fromS3(sha256: string): Promise<Buffer | null> {
    const bytes = await this.opts.s3!.get(sha256);
    return bytes && sha256Of(bytes) === sha256 ? bytes : null;
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
      const bytes = Buffer.from(await res.arrayBuffer().catch(() => new ArrayBuffer(0)));
      // Changed on the way: never kept, never served; the next holder may have it intact.
      if (sha256Of(bytes) === sha256) return bytes;
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
