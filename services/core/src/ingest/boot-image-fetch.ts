/**
 * A boot image from the API node that holds it (the one that received the package), for another
 * API node registering the same kernel: bounded by the size the job recorded, checked against its
 * sha256, with the farm credential over that sha256 (package-access.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BootImageRef } from '@lbc/contract';
import { sha256Of } from '../store/blob-store.ts';
import { MAX_BOOT_IMAGE_BYTES, bootImageTransferPath } from './jobs.ts';
import { PACKAGE_TOKEN_HEADER, bootImageToken } from './package-access.ts';

export async function fetchBootImage(origin: string, image: BootImageRef, secret: string, timeoutMs = 120_000): Promise<Buffer> {
  if (image.size > MAX_BOOT_IMAGE_BYTES) throw new Error(`the boot image is ${image.size} bytes, over ${MAX_BOOT_IMAGE_BYTES}`);
  const url = `${origin}${bootImageTransferPath(image.sha256)}`;
  const res = await fetch(url, { headers: { [PACKAGE_TOKEN_HEADER]: bootImageToken(secret, image.sha256) }, signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 404) throw new BootImageAbsent(`${url} answered 404`);
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

/**
 * The same, for a node registering a kernel as the job completes: the node holding the image
 * registers that job at the same moment and serves the image only once its kernel set names it, so
 * a 404 is tried again for a while (at most `patienceMs`) before the kernel stays unbootable here.
 */
export async function fetchBootImageSoon(origin: string, image: BootImageRef, secret: string, patienceMs = 15_000): Promise<Buffer> {
  const until = Date.now() + patienceMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await fetchBootImage(origin, image, secret);
    } catch (err) {
      if (!(err instanceof BootImageAbsent) || Date.now() + delay > until) throw err;
      await sleep(delay);
    }
  }
}

/** The node asked does not (yet) serve the image. */
class BootImageAbsent extends Error {}
