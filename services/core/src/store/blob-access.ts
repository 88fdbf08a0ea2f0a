/**
 * How farm nodes fetch blobs from one another: GET <node>/internal/blobs/<sha256> with an HMAC of the farm
 * secret over the hash (the credential opens that one blob; the secret never leaves Redis). The
 * node answers from its own disk, verified: a missing or corrupt blob is a 404, never bad bytes.
 */
import { createHmac } from 'node:crypto';
import type { BlobStore } from './blob-store.ts';
import { tokenEquals } from '../ingest/package-access.ts';

/** Under /internal: between farm nodes, which check the farm's own credential, not API tokens. */
export const BLOB_PATH_PREFIX = '/internal/blobs/';
export const BLOB_TOKEN_HEADER = 'x-lbc-blob-token';
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function blobToken(secret: string, sha256: string): string {
  return createHmac('sha256', secret).update(`blob:${sha256}`).digest('hex');
}

export type BlobAnswer = { status: 200; bytes: Buffer } | { status: 400 | 403 | 404; reason: string };

/** The answer to a peer asking this node for a blob (secret: null before any API node made one). */
export function answerBlobRequest(disk: BlobStore, secret: string | null, sha256: string, token: string | undefined): BlobAnswer {
  if (!SHA256_PATTERN.test(sha256)) return { status: 400, reason: 'not a sha256' };
  if (!secret || !tokenEquals(blobToken(secret, sha256), token)) return { status: 403, reason: 'bad blob token' };
  const read = disk.read(sha256);
  if (read.status !== 'ok') return { status: 404, reason: read.status === 'corrupt' ? 'corrupt here (dropped)' : 'not here' };
  return { status: 200, bytes: read.bytes };
}
