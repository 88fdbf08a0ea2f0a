/**
 * The client against a service that lies (test-support/src/hostile-server.ts): a 1.5 GB answer, a
 * compile result without a sha256 or with a wrong one, an object whose .BTF is the name bomb.
 * Each attack, then the refusal: a clear LBC_ERR_* code, nothing cached, memory bounded.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLbcError, type CompileResult } from '@lbc/contract';
import { Lbc } from '../src/index.ts';
import { ServiceClient } from '../src/transport/index.ts';
import { detectTarget } from '../src/target/detect-target.ts';
import { withNameBomb } from '@lbc/test-support/hostile-btf';
import { startHostileServer, type HostileRoute, type HostileServer } from '@lbc/test-support/hostile-server';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';

const native = useNativeFixtures();
const SOURCE = readFileSync(join(import.meta.dirname, 'fixtures', 'exec-counter.bpf.c'), 'utf8');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
let server: HostileServer | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-transport-hostile-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function serve(routes: Record<string, HostileRoute>): Promise<string> {
  server = await startHostileServer(routes);
  return server.url;
}

/** A compile result as the service words it, for an artifact of `sha` (or none). */
function result(sha: string | undefined, size = 0): Partial<CompileResult> {
  const kernel = { btfSha256: 'e'.repeat(64), release: '6.18.0', arch: 'x86_64', distro: '', source: 'upload', btfSize: 0, createdAt: '' };
  return { artifact: { sha256: sha as string, size, url: `/v1/artifacts/${sha}` }, cacheKey: 'k'.repeat(64), cached: true, warnings: '', kernel: kernel as CompileResult['kernel'] };
}

/** Peak RSS growth (MB) of this process while `work` runs. */
async function rssGrowthMb<T>(work: () => Promise<T>): Promise<{ value: T | unknown; mb: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    const value = await work().catch((err: unknown) => err);
    return { value, mb: (Math.max(peak, process.memoryUsage().rss) - before) / 1e6 };
  } finally {
    clearInterval(sample);
  }
}

function cachedFiles(cacheDir: string): string[] {
  return ['objects', 'requests'].flatMap((sub) => (existsSync(join(cacheDir, sub)) ? readdirSync(join(cacheDir, sub)).map((f) => `${sub}/${f}`) : []));
}

async function start(url: string, cacheDir: string): Promise<unknown> {
  const lbc = new Lbc('hostile', SOURCE, { server: url, cacheDir, target: detectTarget(), attach: false, load: false });
  try {
    await lbc.ready;
    return undefined;
  } catch (err) {
    return err;
  } finally {
    lbc.close();
  }
}

describe('a service that sends too much', () => {
  it('a 1.5 GB streamed artifact stops at the fallback bound (4 × 16 MB) with LBC_ERR_RESPONSE_TOO_LARGE; RSS stays bounded', async () => {
    const url = await serve({ 'GET /v1/artifacts/huge': { zeros: 1.5e9 } });
    const client = new ServiceClient({ server: url });
    const t = performance.now();
    const { value: err, mb } = await rssGrowthMb(() => client.fetchVerified('/v1/artifacts/huge', 'a'.repeat(64)));
    await client.close();
    console.log(`1.5 GB stream refused after ${Math.round(performance.now() - t)} ms, RSS +${mb.toFixed(0)} MB`);
    expect(isLbcError(err, 'LBC_ERR_RESPONSE_TOO_LARGE')).toBe(true);
    expect((err as Error).message).toMatch(/more than the 67108864 bytes accepted/);
    expect(mb).toBeLessThan(400);
  });

  it("the service's own limit (GET /v1/limits: 1 MB objects) bounds the download; an announced 1.5 GB is refused before reading", async () => {
    const url = await serve({ 'GET /v1/limits': { json: { maxArtifactBytes: 1 << 20, maxBtfBytes: 1 << 20 } }, 'GET /v1/artifacts/huge': { zeros: 1.5e9, announce: true } });
    const client = new ServiceClient({ server: url });
    const err = await client.fetchVerified('/v1/artifacts/huge', 'a'.repeat(64)).catch((e: unknown) => e);
    await client.close();
    expect(isLbcError(err, 'LBC_ERR_RESPONSE_TOO_LARGE')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ limit: 1 << 20 });
    expect((err as Error).message).toMatch(/Content-Length 1500000000/);
    expect(await server!.seen()).toEqual(['GET /v1/limits', 'GET /v1/artifacts/huge']);
  });

  it('an object longer than its compile result announced stops at the announced size, and the limits are not asked', async () => {
    const sha = 'b'.repeat(64);
    const url = await serve({ 'POST /v1/compile': { json: result(sha, 1024) }, [`GET /v1/artifacts/${sha}`]: { zeros: 1.5e9 } });
    const client = new ServiceClient({ server: url });
    const compiled = await client.compile({ name: 'hostile', source: SOURCE, target: { release: '6.18.0', arch: 'x86_64' } });
    const err = await client.fetchVerified(compiled.artifact.url, sha).catch((e: unknown) => e);
    await client.close();
    expect(isLbcError(err, 'LBC_ERR_RESPONSE_TOO_LARGE')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ limit: 1024 });
    expect(await server!.seen()).toEqual(['POST /v1/compile', `GET /v1/artifacts/${sha}`]);
  });
});

describe('a service whose answers do not verify', () => {
  it('a compile result without sha256 is refused and nothing is cached (it was cached as objects/undefined.o)', async () => {
    const url = await serve({ 'POST /v1/compile': { json: result(undefined) }, 'GET /v1/artifacts/undefined': { file: native.fixtures.objectPath('exec-counter') } });
    const cacheDir = join(dir, 'no-sha');
    const err = await start(url, cacheDir);
    expect(isLbcError(err, 'LBC_ERR_ARTIFACT_INTEGRITY')).toBe(true);
    expect((err as Error).message).toMatch(/no valid artifact\.sha256 \(undefined\)/);
    expect(cachedFiles(cacheDir)).toEqual([]);
    expect(await server!.seen()).toEqual(['POST /v1/compile']);
  });

  it('an object that does not hash to the sha256 the result names is refused and not cached', async () => {
    const object = native.fixtures.object('exec-counter');
    const claimed = sha256(Buffer.concat([object, Buffer.from('x')]));
    const url = await serve({ 'POST /v1/compile': { json: result(claimed, object.length) }, [`GET /v1/artifacts/${claimed}`]: { file: native.fixtures.objectPath('exec-counter') } });
    const cacheDir = join(dir, 'wrong-sha');
    const err = await start(url, cacheDir);
    expect(isLbcError(err, 'LBC_ERR_ARTIFACT_INTEGRITY')).toBe(true);
    expect((err as Error).message).toContain(`has sha256 ${sha256(object)}, expected ${claimed}`);
    expect(cachedFiles(cacheDir)).toEqual([]);
  });

  it('an object carried in the compile answer (objectBase64) that does not hash to its sha256 is refused and not cached; none is downloaded', async () => {
    const object = native.fixtures.object('exec-counter');
    const claimed = sha256(Buffer.concat([object, Buffer.from('x')]));
    const url = await serve({ 'POST /v1/compile': { json: { ...result(claimed, object.length), objectBase64: object.toString('base64') } } });
    const cacheDir = join(dir, 'wrong-inline-sha');
    const err = await start(url, cacheDir);
    expect(isLbcError(err, 'LBC_ERR_ARTIFACT_INTEGRITY')).toBe(true);
    expect((err as Error).message).toContain(`the object in the compile result from ${url} has sha256 ${sha256(object)}, expected ${claimed}`);
    expect(cachedFiles(cacheDir)).toEqual([]);
    expect(await server!.seen()).toEqual(['POST /v1/compile']);
  });

  it('an object carried in the compile answer is used without a download when it verifies', async () => {
    const object = native.fixtures.object('exec-counter');
    const url = await serve({ 'POST /v1/compile': { json: { ...result(sha256(object), object.length), objectBase64: object.toString('base64') } } });
    const client = new ServiceClient({ server: url });
    try {
      const answer = await client.compile({ name: 'hostile', source: SOURCE, includes: {}, cflags: [], target: { release: '6.18.0', arch: 'x86_64' } }, { includeObject: true });
      expect((await client.compiledObject(answer)).equals(object)).toBe(true);
    } finally {
      await client.close();
    }
    expect(await server!.seen()).toEqual(['POST /v1/compile']);
  });
});

describe('an object built to hurt the BTF decoder', () => {
  it('an object whose .BTF is the name bomb (6.4 GB of names as copies) is LBC_ERR_OBJECT_BTF_INVALID, not a dead process', async () => {
    // The fixture's own .BTF with the bomb appended: libbpf opens the object as before.
    const ownPath = join(dir, 'own.btf');
    const bombPath = join(dir, 'bomb.btf');
    execFileSync('llvm-objcopy-16', ['--dump-section', `.BTF=${ownPath}`, native.fixtures.objectPath('exec-counter'), join(dir, 'scratch.o')]);
    writeFileSync(bombPath, withNameBomb(readFileSync(ownPath)));
    const objectPath = join(dir, 'bomb.bpf.o');
    execFileSync('llvm-objcopy-16', ['--update-section', `.BTF=${bombPath}`, native.fixtures.objectPath('exec-counter'), objectPath]);
    const object = readFileSync(objectPath);
    const url = await serve({ 'POST /v1/compile': { json: result(sha256(object), object.length) }, [`GET /v1/artifacts/${sha256(object)}`]: { file: objectPath } });
    const { value: err, mb } = await rssGrowthMb(() => start(url, join(dir, 'bomb')).then((e) => Promise.reject(e)));
    console.log(`bomb object refused, RSS +${mb.toFixed(0)} MB: ${(err as Error).message}`);
    expect(isLbcError(err, 'LBC_ERR_OBJECT_BTF_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/hostile: the name at string offset \d+ is 16777216 bytes long/);
    expect(mb).toBeLessThan(600);
  });
});
