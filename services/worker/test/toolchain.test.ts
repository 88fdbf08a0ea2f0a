/** Toolchain identity and the lbc.h digest: what the API puts in every cache key. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMAGE, LBC_HEADER_DIR, lbcHeaderSha256, toolchainIdentity, toolchainShort } from '@lbc/core';
import { ensureImage, imageFromEnv } from '../src/sandbox/compile-image.ts';

const docker = new Dockerode();

describe('toolchain', () => {
  it('identity is the image id plus the clang version label, stable across calls', async () => {
    const a = await toolchainIdentity(docker, DEFAULT_IMAGE);
    const b = await toolchainIdentity(docker, DEFAULT_IMAGE);
    expect(a).toBe(b);
    const image = await docker.getImage(DEFAULT_IMAGE).inspect();
    expect(a).toBe(`${image.Id} ${image.Config.Labels['lbc.clang.version']}`);
    expect(a).toMatch(/^sha256:[0-9a-f]{64} Debian clang version 19\./);
    expect(toolchainShort(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('an unknown image is a clear sandbox error', async () => {
    await expect(toolchainIdentity(docker, 'lbc-compile:does-not-exist')).rejects.toMatchObject({ code: 'LBC_ERR_SANDBOX' });
  });

  it('ensureImage does nothing when the image exists', async () => {
    const lines: string[] = [];
    await ensureImage(docker, DEFAULT_IMAGE, (l) => lines.push(l));
    expect(lines).toEqual([]);
  });

  it('LBC_IMAGE overrides the default image', () => {
    expect(imageFromEnv({})).toBe(DEFAULT_IMAGE);
    expect(imageFromEnv({ LBC_IMAGE: 'x:y' })).toBe('x:y');
  });

  it('lbc.h digest matches the file and the header declares its version', () => {
    const text = readFileSync(join(LBC_HEADER_DIR, 'lbc.h'));
    expect(lbcHeaderSha256()).toBe(createHash('sha256').update(text).digest('hex'));
    expect(text.toString()).toMatch(/#define LBC_H_VERSION \d+/);
  });
});
