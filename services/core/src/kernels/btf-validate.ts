/**
 * Upload checks for raw BTF: gunzip when compressed (bounded), then the BTF header must hold
 * together (magic, version, section bounds). Deeper parsing belongs to @lbc/btf.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { LbcError } from '@lbc/contract';

const BTF_MAGIC = 0xeb9f;
const BTF_HEADER_MIN = 24;

export const isGzip = (bytes: Buffer): boolean => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

const gunzipAsync = promisify(gunzip);

/**
 * Returns the uncompressed bytes; gzip is recognised by its magic whatever the headers say. It
 * inflates on libuv's thread pool: tens of MB of it never stall the event loop.
 */
export async function decompressUpload(body: Buffer, maxBytes: number): Promise<Buffer> {
  if (!isGzip(body)) return body;
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new LbcError('LBC_ERR_BODY_TOO_LARGE', `uncompressed BTF exceeds ${maxBytes} bytes`, { limit: maxBytes });
    }
    throw new LbcError('LBC_ERR_BTF_INVALID', 'gzip data is corrupt', undefined, { cause: err });
  }
}

/** Throws LBC_ERR_BTF_INVALID unless bytes start with a consistent little-endian BTF header. */
export function validateBtfHeader(bytes: Buffer): void {
  const fail = (why: string): never => {
    throw new LbcError('LBC_ERR_BTF_INVALID', why);
  };
  if (bytes.length < BTF_HEADER_MIN) fail(`only ${bytes.length} bytes`);
  if (bytes.readUInt16LE(0) !== BTF_MAGIC) {
    fail(bytes.readUInt16BE(0) === BTF_MAGIC ? 'big-endian BTF is not supported' : 'bad magic (expected 0xeB9F)');
  }
  const version = bytes.readUInt8(2);
  if (version !== 1) fail(`unsupported BTF version ${version}`);
  const hdrLen = bytes.readUInt32LE(4);
  if (hdrLen < BTF_HEADER_MIN || hdrLen > bytes.length) fail(`header length ${hdrLen} out of range`);
  const typeOff = bytes.readUInt32LE(8);
  const typeLen = bytes.readUInt32LE(12);
  const strOff = bytes.readUInt32LE(16);
  const strLen = bytes.readUInt32LE(20);
  const dataLen = bytes.length - hdrLen;
  if (typeOff + typeLen > dataLen) fail('type section runs past the end');
  if (strOff + strLen > dataLen) fail('string section runs past the end');
  if (strLen === 0 || bytes[hdrLen + strOff] !== 0) fail('string section must start with an empty string');
  if (typeLen === 0) fail('no types');
}
