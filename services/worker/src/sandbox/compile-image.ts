/**
 * The compile image on this worker's Docker engine: which one (LBC_IMAGE), and building it with the
 * offline recipe (containers/build-offline.sh) when the engine does not have it.
 */
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { LbcError } from '@lbc/contract';
import { DEFAULT_IMAGE } from '@lbc/core';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

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
  const script = join(REPO_ROOT, 'containers', 'build-offline.sh');
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
