/**
 * This worker's place in the farm blob store (core/store/farm-blobs.ts): objects, minimized BTF and
 * kernel BTF it writes stay on its disk (<dataDir>/blobs) and other nodes fetch them by hash from a
 * small HTTP endpoint here (the farm secret's HMAC per hash, core/store/blob-access.ts). With an
 * S3-compatible store configured, blobs go there and no endpoint is needed.
 */
import { createServer, type Server } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { BLOB_PATH_PREFIX, BLOB_TOKEN_HEADER, BlobStore, FarmBlobs, S3Blobs, answerBlobRequest, blobNodeHost, blobNodeUrl, readFarmSecret, type BlobS3Settings } from '@lbc/core';

export interface BlobNodeOptions {
  redis: Redis;
  /** Life of the location records this node writes (BLOB_LOCATION_TTL_SECONDS by default). */
  locationTtlSeconds?: number;
  dataDir: string;
  s3?: BlobS3Settings;
  /** Where other nodes reach this one (LBC_BLOB_ADVERTISE_URL); default: the address this host reaches Redis from. */
  advertiseUrl?: string;
  /** Port of the endpoint (LBC_BLOB_PORT); default: any free one (announced with the URL). */
  port?: number;
  /** The one address to listen on, and be reached at; default: the address this host reaches Redis from. */
  listenHost?: string;
  /** Most bytes a get() reads into memory from elsewhere (FarmBlobs' MAX_BUFFERED_BLOB_BYTES by default). */
  maxBufferedBytes?: number;
}

export interface BlobNode {
  blobs: FarmBlobs;
  /** Where this node serves blobs; undefined in S3 mode. */
  url: string | undefined;
  close(): Promise<void>;
}

export async function startBlobNode(opts: BlobNodeOptions): Promise<BlobNode> {
  const disk = new BlobStore(join(opts.dataDir, 'blobs'));
  const blobs = new FarmBlobs({ disk, redis: opts.redis, ...(opts.s3 ? { s3: new S3Blobs(opts.s3) } : {}), ...(opts.locationTtlSeconds ? { locationTtlSeconds: opts.locationTtlSeconds } : {}), ...(opts.maxBufferedBytes ? { maxBufferedBytes: opts.maxBufferedBytes } : {}) });
  if (opts.s3) return { blobs, url: undefined, close: async () => blobs.close() };

  const server = createServer((req, res) => {
    const sha256 = req.method === 'GET' && req.url?.startsWith(BLOB_PATH_PREFIX) ? req.url.slice(BLOB_PATH_PREFIX.length) : undefined;
    if (sha256 === undefined) {
      res.writeHead(404).end();
      return;
    }
    const token = req.headers[BLOB_TOKEN_HEADER];
    void (async () => {
      // Read each time: Redis restarted empty gets a new secret from the first node that needs one.
      const secret = await readFarmSecret(opts.redis).catch(() => null);
      const answer = await answerBlobRequest(disk, secret, sha256, typeof token === 'string' ? token : undefined);
      if (answer.status !== 200) {
        res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.reason);
        return;
      }
      void blobs.served(sha256).catch(() => {});
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.size });
      // A peer that goes mid-transfer ends it here; the descriptor closes with the stream.
      await pipeline(answer.body, res).catch(() => {});
    })().catch(() => (res.headersSent ? res.destroy() : res.writeHead(500).end()));
  });
  // Connected first: the address this host reaches Redis from is the one the farm's nodes share.
  await opts.redis.ping();
  const bindHost = opts.advertiseUrl ? '::' : (opts.listenHost ?? blobNodeHost(opts.redis));
  await listen(server, opts.port ?? 0, bindHost);
  const url = blobNodeUrl(opts.redis, (server.address() as AddressInfo).port, { ...(opts.advertiseUrl ? { advertiseUrl: opts.advertiseUrl } : {}), listenHost: bindHost });
  await blobs.serveAt(url);
  return {
    blobs,
    url,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
