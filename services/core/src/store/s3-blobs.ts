/**
 * Blobs in an S3-compatible object store (AWS S3, MinIO, Ceph RGW, …) when a farm configures one
 * (LBC_BLOB_S3_*): every node reads and writes the same bucket, so no node needs to be reachable
 * by another. Keys are <prefix><sha256>; the caller verifies bytes against the hash on every read.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** The largest object one PutObject takes (S3's limit); putFile refuses larger files. */
export const S3_MAX_PUT_BYTES = 5 * 1024 ** 3;

export interface BlobS3Settings {
  bucket: string;
  /** Unset: AWS's own endpoint for the region. */
  endpoint?: string;
  region: string;
  /** Prepended to every key (several farms may share a bucket). */
  prefix: string;
  /** Unset: the SDK's default credential chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** http(s)://endpoint/bucket/key instead of bucket.endpoint (what MinIO and most self-hosted stores want). */
  forcePathStyle: boolean;
}

type Env = Record<string, string | undefined>;

/** LBC_BLOB_S3_BUCKET turns the S3 store on; the rest have defaults. */
export function blobS3FromEnv(env: Env): BlobS3Settings | undefined {
  const bucket = env.LBC_BLOB_S3_BUCKET;
  if (!bucket) return undefined;
  const endpoint = env.LBC_BLOB_S3_ENDPOINT || undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint)) throw new Error(`LBC_BLOB_S3_ENDPOINT must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  const accessKeyId = env.LBC_BLOB_S3_ACCESS_KEY_ID;
  const secretAccessKey = env.LBC_BLOB_S3_SECRET_ACCESS_KEY;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) throw new Error('LBC_BLOB_S3_ACCESS_KEY_ID and LBC_BLOB_S3_SECRET_ACCESS_KEY go together');
  const pathStyle = env.LBC_BLOB_S3_PATH_STYLE;
  return {
    bucket,
    ...(endpoint ? { endpoint } : {}),
    region: env.LBC_BLOB_S3_REGION || 'us-east-1',
    prefix: env.LBC_BLOB_S3_PREFIX ?? 'lbc/blobs/',
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
    forcePathStyle: pathStyle === undefined || pathStyle === '' ? Boolean(endpoint) : pathStyle === '1' || pathStyle === 'true',
  };
}

export class S3Blobs {
  private readonly client: S3Client;

  constructor(readonly settings: BlobS3Settings) {
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      // A streamed body (putFile) is sent as it is, with its length: no trailing checksum in
      // aws-chunked encoding, which not every S3-compatible store speaks. The reader verifies the
      // sha256 the key names anyway.
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  }

  private key(sha256: string): string {
    return `${this.settings.prefix}${sha256}`;
  }

  async put(sha256: string, bytes: Buffer): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256), Body: bytes, ContentType: 'application/octet-stream' }));
  }

  /**
   * Uploads a file as a stream of known length (a kernel package is never read into memory). One
   * PutObject: packages stay under S3's 5 GiB limit for it (LBC_INGEST_MAX_BYTES, 4 GiB by default).
   */
  async putFile(sha256: string, path: string, size: number): Promise<void> {
    if (size > S3_MAX_PUT_BYTES) throw new Error(`a blob of ${size} bytes is over the ${S3_MAX_PUT_BYTES}-byte limit of one S3 upload`);
    await this.client.send(
      new PutObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256), Body: createReadStream(path), ContentLength: size, ContentType: 'application/octet-stream' }),
    );
  }

  /** The stored bytes as a stream and their length (unverified: the caller hashes them); null when absent. */
  async getStream(sha256: string, signal?: AbortSignal): Promise<{ body: Readable; size: number | undefined } | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256) }), signal ? { abortSignal: signal } : {});
      return out.Body ? { body: out.Body as Readable, size: out.ContentLength } : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256) }));
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.key(sha256) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  close(): void {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);
}
