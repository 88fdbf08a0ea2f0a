/**
 * Bringing a large blob (a kernel package: hundreds of MB) from another node or the S3 store onto
 * this node's disk without holding it in memory: streamed into a file, counted against the size
 * the caller expects (or a bound), hashed on the way, and a transfer that brings no byte for a
 * while is given up. Only bytes whose sha256 is the one asked for are kept; the caller adopts the
 * file under that name (BlobStore.adopt).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
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

/**
 * A pass-through stream that counts and hashes the bytes flowing through it, failing with
 * tooLarge(size) once they pass maxBytes: how every large blob (an upload, a boot image, a fetch
 * from another node) reaches a file without being held in memory.
 */
export class HashingMeter extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');

  constructor(
    private readonly maxBytes: number,
    private readonly tooLarge: (size: number) => Error,
    /** Called after each chunk passed, with the count so far. */
    private readonly onChunk?: (size: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return done(this.tooLarge(this.size));
    this.hash.update(chunk);
    this.onChunk?.(this.size);
    done(null, chunk);
  }

  /** The sha256 (hex) of what passed; once, after the stream ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
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
  let reported = 0;
  const meter = new HashingMeter(limit, () => new BlobTransferError(`${from} sent more than the ${limit} bytes of the blob`, false), (received) => {
    alive();
    if (bounds.size && received - reported >= bounds.size / 100) {
      reported = received;
      bounds.onProgress?.(received / bounds.size);
    }
  });
  try {
    let body: Readable;
    try {
      body = typeof source === 'function' ? await source(abort.signal) : source;
    } catch (err) {
      if (err instanceof BlobTransferError) throw err;
      throw new BlobTransferError(`${from} did not answer: ${why(err)}`, true);
    }
    abort.signal.addEventListener('abort', () => body.destroy(new Error('stalled')), { once: true });
    try {
      await pipeline(body, meter, createWriteStream(dest, { flags: 'wx', mode: 0o644 }));
    } catch (err) {
      if (err instanceof BlobTransferError) throw err;
      throw new BlobTransferError(`fetching ${from} broke off after ${meter.size}${bounds.size ? ` of ${bounds.size}` : ''} bytes: ${why(err)}`, true);
    }
    if (bounds.size !== undefined && meter.size !== bounds.size) throw new BlobTransferError(`${from} sent ${meter.size} of ${bounds.size} bytes`, true);
    const sha256 = meter.digest();
    if (sha256 !== bounds.sha256) throw new BlobTransferError(`${from} sent bytes with sha256 ${sha256}, not the ${bounds.sha256} asked for`, false);
    return meter.size;
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
