/**
 * An S3-compatible object store for tests (s3rver, on loopback, its data in a temp directory): the
 * farm's LBC_BLOB_S3_* settings point at it. Its default credentials are S3RVER/S3RVER.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { BlobS3Settings } from '@lbc/core';

export interface S3Server {
  settings: BlobS3Settings;
  /** The same settings as LBC_BLOB_S3_* environment (for server and worker processes). */
  env: Record<string, string>;
  /** Where the server keeps bucket objects (a test may corrupt one). */
  directory: string;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'lbc-test'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'lbc-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  return {
    settings: { bucket, endpoint, region: 'us-east-1', prefix: 'lbc/blobs/', credentials, forcePathStyle: true },
    env: { LBC_BLOB_S3_BUCKET: bucket, LBC_BLOB_S3_ENDPOINT: endpoint, LBC_BLOB_S3_ACCESS_KEY_ID: credentials.accessKeyId, LBC_BLOB_S3_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    directory,
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
