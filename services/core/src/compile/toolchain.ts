/**
 * The compile toolchain: which image compiles, how it is identified in cache keys, and the lbc.h
 * header mounted beside it. The API and the workers both read these, so both agree on identities.
 */
import { spawn } from 'node:child_process';
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

export function imageFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.LBC_IMAGE || DEFAULT_IMAGE;
}

async function imageExists(docker: Dockerode, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw new LbcError('LBC_ERR_SANDBOX', `Docker engine unreachable: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Builds the image with the offline recipe when it is missing (a registry is not assumed). */
export async function ensureImage(docker: Dockerode, image: string, onProgress?: (line: string) => void): Promise<void> {
  if (await imageExists(docker, image)) return;
  const script = join(REPO_ROOT, 'containers/build-offline.sh');
  const tail: string[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn('bash', [script], { env: { ...process.env, LBC_IMAGE: image }, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onProgress?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', fail);
    child.once('close', done);
  });
  if (code !== 0 || !(await imageExists(docker, image))) {
    throw new LbcError('LBC_ERR_SANDBOX', `building compile image ${image} failed:\n${tail.join('\n')}`);
  }
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
