-- A kernel set is bootable when its package brought the image a VM boots (vmlinuz, arm64 Image):
-- its bytes live in blobs/<sha[0:2]>/<sha> beside the BTF's, never in Redis. '' = not bootable.
ALTER TABLE kernels ADD COLUMN boot_image_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE kernels ADD COLUMN boot_image_size INTEGER NOT NULL DEFAULT 0;
