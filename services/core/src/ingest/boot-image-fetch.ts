/**
 * A boot image from the API node that holds it (the one that received the package), for another
 * API node registering the same kernel: bounded by the size the job recorded, checked against its
 * sha256, with the farm credential over that sha256 (package-access.ts).
 */
import type { BootImageRef } from '@lbc/contract';
import { sha256Of } from '../store/blob-store.ts';
import { MAX_BOOT_IMAGE_BYTES, bootImageTransferPath } from './jobs.ts';
import { PACKAGE_TOKEN_HEADER, bootImageToken } from './package-access.ts';

export async function fetchBootImage(origin: string, image: BootImageRef, secret: string, timeoutMs = 120_000): Promise<Buffer> {
  if (image.size > MAX_BOOT_IMAGE_BYTES) throw new Error(`the boot image is ${image.size} bytes, over ${MAX_BOOT_IMAGE_BYTES}`);
  const url = `${origin}${bootImageTransferPath(image.sha256)}`;
  const res = await fetch(url, { headers: { [PACKAGE_TOKEN_HEADER]: bootImageToken(secret, image.sha256) }, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status !== 200 || !res.body) throw new Error(`${url} answered ${res.status}`);
  if (Number(res.headers.get('content-length')) !== image.size) throw new Error(`${url} announced ${res.headers.get('content-length')} bytes, the job ${image.size}`);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    received += chunk.length;
    if (received > image.size) throw new Error(`${url} sent more than the ${image.size} bytes of the image`);
    chunks.push(Buffer.from(chunk));
  }
  const bytes = Buffer.concat(chunks);
  if (bytes.length !== image.size || sha256Of(bytes) !== image.sha256) throw new Error(`${url} sent other bytes than the image's`);
  return bytes;
}
