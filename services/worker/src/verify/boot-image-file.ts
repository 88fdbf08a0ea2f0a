/**
 * A kernel's boot image as a file on this host, by its sha256, through the farm blob store
 * (store/farm-blobs.ts fetchFile): this node's own disk (on the API node's host the data directory
 * is shared), else streamed from a node holding it or the S3 store, checked against the sha256 and
 * the size the job names (a corrupt or forged copy is refused, the next holder asked) and kept in
 * this node's store, which then names this node as a holder too.
 */
import { LbcError, type BootImageRef } from '@lbc/contract';
import { BlobTransferError, type FarmBlobs } from '@lbc/core';

export class BootImageFiles {
  private readonly fetching = new Map<string, Promise<string>>();

  constructor(private readonly blobs: FarmBlobs) {}

  /** One fetch per image at a time: kernels of one job verified at once may share it. */
  async path(image: BootImageRef): Promise<string> {
    const running = this.fetching.get(image.sha256);
    if (running) return running;
    const work = this.fetch(image).finally(() => this.fetching.delete(image.sha256));
    this.fetching.set(image.sha256, work);
    return work;
  }

  private async fetch(image: BootImageRef): Promise<string> {
    try {
      return (await this.blobs.fetchFile(image.sha256, { size: image.size })).path;
    } catch (err) {
      if (!(err instanceof BlobTransferError)) throw err;
      throw new LbcError('LBC_ERR_BOOT_IMAGE_NOT_FOUND', `boot image ${image.sha256} (${image.size} bytes) could not be had from the farm blob store: ${err.message}`);
    }
  }
}
