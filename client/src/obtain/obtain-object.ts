/**
 * client/src/obtain: compile or fetch, the object for a source and a target. target/ detects the
 * target and cache/ stores objects; this folder joins them with the service (compile-for-target
 * uploads an unknown kernel's BTF, service-btf fetches BTF for kernels without their own).
 */
import type { CompileResult, HeaderRequest, JobProgress, JobStatus } from '@lbc/contract';
import { detectTarget, type DetectedTarget } from '../target/detect-target.ts';
import { ObjectCache, type CacheEntry } from '../cache/object-cache.ts';
import { requestKey } from '../cache/request-key.ts';

export interface ObtainRequest {
  name: string;
  source: string;
  includes: Record<string, string>;
  cflags: string[];
  cacheDir: string;
  server?: string;
  /** Bearer token; default LBC_TOKEN. */
  token?: string;
  /** Defaults to the running kernel. */
  target?: DetectedTarget;
  /** The header to compile against (CompileRequest.header); the service's choice when absent. */
  header?: HeaderRequest;
  onProgress?: (progress: JobProgress, state: JobStatus['state']) => void;
  /**
   * Called once the compile request is on its way to the service (never on a cache hit): the
   * caller prepares what does not need the object while the service compiles. It must not throw.
   */
  whileCompiling?: () => void;
}

export interface ObtainedObject {
  object: Buffer;
  entry: CacheEntry;
  /** 'cache': no request was made at all. */
  from: 'cache' | 'service';
  uploadedBtf: boolean;
  target: DetectedTarget;
  result?: CompileResult;
}

/**
 * Local cache first (no network: a warm start is a file read, and works with the service down),
 * then the service; what the service returns is stored before it is used.
 */
export async function obtainObject(req: ObtainRequest): Promise<ObtainedObject> {
  const target = req.target ?? detectTarget({ rememberIn: req.cacheDir });
  const key = requestKey({ name: req.name, source: req.source, includes: req.includes, cflags: req.cflags, target, ...(req.header ? { header: req.header } : {}) });
  const cache = new ObjectCache(req.cacheDir);
  const hit = cache.get(key);
  if (hit) return { ...hit, from: 'cache', uploadedBtf: false, target };

  // Loaded only on a miss: a warm start never pays for the HTTP stack.
  const [{ ServiceClient }, { compileForTarget }, { fetchServiceBtf }] = await Promise.all([
    import('../transport/service-client.ts'),
    import('./compile-for-target.ts'),
    import('./service-btf.ts'),
  ]);
  const client = new ServiceClient({ server: req.server, token: req.token, ...(req.whileCompiling && { onFirstRequestSent: req.whileCompiling }) });
  let obtained: ObtainedObject;
  try {
    const { result, uploadedBtf } = await compileForTarget(
      client,
      // A kernel without its own BTF gets the object's minimized BTF (a few hundred bytes, not megabytes).
      { name: req.name, source: req.source, includes: req.includes, cflags: req.cflags, ...(req.header ? { header: req.header } : {}), ...(target.btfSha256 ? {} : { minBtf: true }) },
      target,
      // The object in the compile's answer when the service has it: one round trip, not two.
      { onProgress: req.onProgress, includeObject: true },
    );
    const object = await client.compiledObject(result);
    delete result.objectBase64;
    const entry: CacheEntry = {
      cacheKey: result.cacheKey,
      artifactSha256: result.artifact.sha256,
      warnings: result.warnings ?? '',
      createdAt: new Date().toISOString(),
    };
    if (!target.btfSha256 && result.minBtf) {
      entry.btfCustomPath = await fetchServiceBtf(client, result.minBtf.url, result.minBtf.sha256, req.cacheDir);
    } else if (!target.btfSha256 && result.btfUrl) {
      entry.btfCustomPath = await fetchServiceBtf(client, result.btfUrl, result.kernel.btfSha256, req.cacheDir);
    }
    cache.put(key, entry, object);
    obtained = { object, entry, from: 'service', uploadedBtf, target, result };
  } catch (err) {
    await client.close();
    throw err;
  }
  // Not waited for: its socket closes an event-loop turn later (2-7 ms of `lbc run`'s way to its
  // first event), and nothing needs it closed before the object is used.
  void client.close();
  return obtained;
}
