/** An ingest worker in its own process, so a test can SIGKILL it mid-ingestion. Env: REDIS_URL, LBC_DATA_DIR. */
import { startIngestWorker } from '../src/ingest/ingest-worker.ts';

await startIngestWorker({ redisUrl: process.env.REDIS_URL!, dataDir: process.env.LBC_DATA_DIR!, lockDurationMs: 2000, stalledIntervalMs: 1000 });
process.stdout.write('ready\n');
