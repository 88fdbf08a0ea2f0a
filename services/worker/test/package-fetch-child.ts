/**
 * obtainPackage in a process of its own: node reads NODE_EXTRA_CA_CERTS at start only, so a test
 * that trusts its own CA (an API node serving HTTPS) runs the fetch here.
 * argv: REDIS_URL DATA_DIR JOB_JSON; prints {sha256} of what it got, or {error: {code, retryable, message}}.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BlobStore, FarmBlobs } from '@lbc/core';
import { obtainPackage, PackageFetchError } from '../src/ingest/package-fetch.ts';

const [redisUrl, dataDir, jobJson] = process.argv.slice(2);
const redis = new Redis(redisUrl!, { maxRetriesPerRequest: null });
try {
  const blobs = new FarmBlobs({ disk: new BlobStore(join(dataDir!, 'blobs')), redis });
  const pkg = await obtainPackage(JSON.parse(jobJson!), { dataDir: dataDir!, blobs });
  process.stdout.write(JSON.stringify({ sha256: createHash('sha256').update(readFileSync(pkg.path)).digest('hex'), fetched: pkg.fetched }));
  await pkg.release();
} catch (err) {
  if (!(err instanceof PackageFetchError)) throw err;
  process.stdout.write(JSON.stringify({ error: { code: err.code, retryable: err.retryable, message: err.message } }));
} finally {
  redis.disconnect();
}
