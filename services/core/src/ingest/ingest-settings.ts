/**
 * Ingestion settings, from the environment (the server passes process.env; tests pass their own):
 *   LBC_INGEST_FROM            loopback (default: only the service host), any, or off
 *   LBC_INGEST_PATH_ROOT       server-side directory whose files POST {path} may name (unset: uploads only)
 *   LBC_INGEST_MAX_BYTES       largest package accepted (default 4 GiB)
 *   LBC_INGEST_MAX_UNPACKED_BYTES  largest unpacked size a package header may claim (default 8 GiB)
 */
import { resolve } from 'node:path';

export type IngestFrom = 'loopback' | 'any' | 'off';

export interface IngestSettings {
  from: IngestFrom;
  pathRoot: string | undefined;
  maxBytes: number;
  maxUnpackedBytes: number;
}

export const DEFAULT_INGEST_SETTINGS: IngestSettings = {
  from: 'loopback',
  pathRoot: undefined,
  maxBytes: 4 * 1024 ** 3,
  maxUnpackedBytes: 8 * 1024 ** 3,
};

function bytes(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (bytes), got ${JSON.stringify(raw)}`);
  return n;
}

export function loadIngestSettings(env: Record<string, string | undefined>): IngestSettings {
  const from = (env.LBC_INGEST_FROM || DEFAULT_INGEST_SETTINGS.from) as IngestFrom;
  if (!['loopback', 'any', 'off'].includes(from)) throw new Error(`LBC_INGEST_FROM must be loopback, any or off, got ${JSON.stringify(from)}`);
  return {
    from,
    pathRoot: env.LBC_INGEST_PATH_ROOT ? resolve(env.LBC_INGEST_PATH_ROOT) : undefined,
    maxBytes: bytes(env, 'LBC_INGEST_MAX_BYTES', DEFAULT_INGEST_SETTINGS.maxBytes),
    maxUnpackedBytes: bytes(env, 'LBC_INGEST_MAX_UNPACKED_BYTES', DEFAULT_INGEST_SETTINGS.maxUnpackedBytes),
  };
}
