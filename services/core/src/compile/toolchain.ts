/**
 * The compile toolchain: which image compiles, how it is identified in cache keys, and the lbc.h
 * header mounted beside it. The API and the workers both read these, so both agree on identities.
 * Making the image when it is missing is the workers' business (worker/src/sandbox/compile-image.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { LbcError } from '@lbc/contract';

export const DEFAULT_IMAGE = 'lbc-compile:trixie-2';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Mounted read-only at /lbc in every compile container; holds lbc.h. */
export const LBC_HEADER_DIR = join(REPO_ROOT, 'include');

let headerSha: string | undefined;
export function lbcHeaderSha256(): string {
  headerSha ??= createHash('sha256').update(readFileSync(join(LBC_HEADER_DIR, 'lbc.h'))).digest('hex');
  return headerSha;
}

/** Image id + clang version: two workers with equal identities produce identical objects. */
export async function toolchainIdentity(docker: Dockerode, image: string): Promise<string> {
  let info: Awaited<ReturnType<Dockerode.Image['inspect']>>;
  try {
    info = await docker.getImage(image).inspect();
  } catch (err) {
    throw new LbcError('LBC_ERR_SANDBOX', `compile image ${image} not found: ${(err as Error).message}`, undefined, { cause: err });
  }
  const clang = info.Config?.Labels?.['lbc.clang.version'] ?? 'clang unknown';
  return `${info.Id} ${clang}`;
}

/** A short, path-safe digest of a toolchain identity, for directory names. */
export function toolchainShort(identity: string): string {
  return createHash('sha256').update(identity).digest('hex').slice(0, 16);
}
