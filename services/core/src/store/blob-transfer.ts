/**
 * Bringing a large blob (a kernel package: hundreds of MB) from another node or the S3 store onto
 * this node's disk without holding it in memory: streamed into a file, counted against the size
 * the caller expects (or a bound), hashed on the way, and a transfer that brings no byte for a
 * while is given up. Only bytes whose sha256 is the one asked for are kept; the caller adopts the
 * file under that name (BlobStore.adopt).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';

/** A transfer that failed; `retryable`: asking again (later, or another holder) may succeed. */
export class BlobTransferError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** The source answered that it does not hold the blob (HTTP 404). */
    readonly gone = false,
  ) {
    super(message);
  }
}

export interface TransferBounds {
  sha256: string;
  /** The exact size expected (e.g. what the API measured of an upload). */
  size?: number;
  /** Without an exact size: the most bytes accepted. */
  maxBytes?: number;
  /** No byte for this long: given up (default 60 s). */
  stallMs?: number;
  /** The fraction received so far (0..1), when the size is known. */
  onProgress?: (fraction: number) => void;
}

/** Streams `source` (named `from` in messages) into `dest`, checked against the bounds; removes `dest` on any failure. */
export async function receiveVerified(source: Readable | ((signal: AbortSignal) => Promise<Readable>), from: string, dest: string, bounds: TransferBounds): Promise<number> {
  const stallMs = bounds.stallMs ?? 60_000;
  const limit = bounds.size ?? bounds.maxBytes ?? Number.POSITIVE_INFINITY;
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(), stallMs);
  const alive = () => {
    clearTimeout(stall);
    stall = setTimeout(() => abort.abort(), stallMs);
  };
  const why = (err: unknown) => (abort.signal.aborted ? `no data for ${stallMs / 1000} s` : ((err as Error).cause as Error | undefined)?.message ?? (err as Error).message);
  const hash = createHash('sha256');
  let received = 0;
  let reported = 0;
  try {
    let body: Readable;
    try {
      body = typeof source === 'function' ? await source(abort.signal) : source;
    } catch (err) {
      if (err instanceof BlobTransferError) throw err;
      throw new BlobTransferError(`${from} did not answer: ${why(err)}`, true);
    }
    abort.signal.addEventListener('abort', () => body.destroy(new Error('stalled')), { once: true });
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        alive();
        received += chunk.length;
        if (received > limit) return done(new BlobTransferError(`${from} sent more than the ${limit} bytes of the blob`, false));
        hash.update(chunk);
        if (bounds.size && received - reported >= bounds.size / 100) {
          reported = received;
          bounds.onProgress?.(received / bounds.size);
        }
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(dest, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      if (err instanceof BlobTransferError) throw err;
      throw new BlobTransferError(`fetching ${from} broke off after ${received}${bounds.size ? ` of ${bounds.size}` : ''} bytes: ${why(err)}`, true);
    }
    if (bounds.size !== undefined && received !== bounds.size) throw new BlobTransferError(`${from} sent ${received} of ${bounds.size} bytes`, true);
    const sha256 = hash.digest('hex');
    if (sha256 !== bounds.sha256) throw new BlobTransferError(`${from} sent bytes with sha256 ${sha256}, not the ${bounds.sha256} asked for`, false);
    return received;
  } catch (err) {
    await fsp.rm(dest, { force: true });
    throw err;
  } finally {
    clearTimeout(stall);
  }
}

/** GET `url` (with `headers`) into `dest`, as receiveVerified; a 404 or a refusal is not retryable, a busy node is. */
export async function fetchVerified(url: string, headers: Record<string, string>, dest: string, bounds: TransferBounds): Promise<number> {
  return receiveVerified(
    async (signal) => {
      const res = await fetch(url, { headers, signal });
      if (res.status !== 200 || !res.body) {
        const text = await res.text().catch(() => '');
        // Gone or refused will not change on a second try; a busy or failing node may.
        throw new BlobTransferError(`${url} answered ${res.status}: ${text.slice(0, 300)}`, res.status !== 404 && res.status !== 401 && res.status !== 403, res.status === 404);
      }
      const announced = res.headers.get('content-length');
      if (bounds.size !== undefined && announced !== null && Number(announced) !== bounds.size) {
        await res.body.cancel();
        throw new BlobTransferError(`${url} announced ${announced} bytes, not the ${bounds.size} expected`, false);
      }
      return Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
    },
    url,
    dest,
    bounds,
  );
}
