/**
 * How farm nodes fetch blobs from one another: GET <node>/internal/blobs/<sha256> with an HMAC of the farm
 * secret over the hash (the credential opens that one blob; the secret never leaves Redis). The
 * node answers from its own disk, verified: a missing or corrupt blob is a 404, never bad bytes.
 * The answer is a stream (a kernel package is hundreds of MB): the file is hashed as a stream
 * through one open descriptor, then sent from that same descriptor.
 */
import { createHash, createHmac } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BlobStore } from './blob-store.ts';
import { tokenEquals } from '../ingest/package-access.ts';

/** Under /internal: between farm nodes, which check the farm's own credential, not API tokens. */
export const BLOB_PATH_PREFIX = '/internal/blobs/';
export const BLOB_TOKEN_HEADER = 'x-lbc-blob-token';
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function blobToken(secret: string, sha256: string): string {
  return createHmac('sha256', secret).update(`blob:${sha256}`).digest('hex');
}

export type BlobAnswer = { status: 200; body: Readable; size: number } | { status: 400 | 403 | 404; reason: string };

/** The answer to a peer asking this node for a blob (secret: null before any API node made one). */
export async function answerBlobRequest(disk: BlobStore, secret: string | null, sha256: string, token: string | undefined): Promise<BlobAnswer> {
  if (!SHA256_PATTERN.test(sha256)) return { status: 400, reason: 'not a sha256' };
  if (!secret || !tokenEquals(blobToken(secret, sha256), token)) return { status: 403, reason: 'bad blob token' };
  let file: fsp.FileHandle;
  try {
    file = await fsp.open(disk.pathOf(sha256), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { status: 404, reason: 'not here' };
    throw err;
  }
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of file.createReadStream({ start: 0, autoClose: false })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    if (hash.digest('hex') !== sha256) {
      await file.close();
      disk.delete(sha256);
      return { status: 404, reason: 'corrupt here (dropped)' };
    }
    // Closes the descriptor once sent (or when the peer goes).
    return { status: 200, body: file.createReadStream({ start: 0 }), size };
  } catch (err) {
    await file.close().catch(() => {});
    throw err;
  }
}
