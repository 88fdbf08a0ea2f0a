/**
 * Ingestion settings, from the environment (the server passes process.env; tests pass their own):
 *   LBC_INGEST_FROM            loopback (default: only the service host), any, or off
 *   LBC_INGEST_PATH_ROOT       server-side directory whose files POST {path} may name (unset: uploads only)
 *   LBC_INGEST_MAX_BYTES       largest package accepted (default 4 GiB)
 *   LBC_INGEST_MAX_UNPACKED_BYTES  largest unpacked size a package header may claim (default 8 GiB)
 *   LBC_ADVERTISE_URL          where other farm nodes reach this API node's blobs (uploaded packages,
 *                              kernel BTF and boot images by hash; default: store/farm-blobs.ts blobNodeUrl)
 */
import { resolve } from 'node:path';

export type IngestFrom = 'loopback' | 'any' | 'off';

export interface IngestSettings {
  from: IngestFrom;
  pathRoot: string | undefined;
  maxBytes: number;
  maxUnpackedBytes: number;
  advertiseUrl?: string;
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

function httpUrl(env: Record<string, string | undefined>, name: string): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.pathname !== '/' || url.search) {
    throw new Error(`${name} must be this node's base URL as other hosts reach it, e.g. http://10.0.0.5:8080, got ${JSON.stringify(raw)}`);
  }
  return url.origin;
}

export function loadIngestSettings(env: Record<string, string | undefined>): IngestSettings {
  const from = (env.LBC_INGEST_FROM || DEFAULT_INGEST_SETTINGS.from) as IngestFrom;
  if (!['loopback', 'any', 'off'].includes(from)) throw new Error(`LBC_INGEST_FROM must be loopback, any or off, got ${JSON.stringify(from)}`);
  const advertiseUrl = httpUrl(env, 'LBC_ADVERTISE_URL');
  return {
    from,
    ...(advertiseUrl ? { advertiseUrl } : {}),
    pathRoot: env.LBC_INGEST_PATH_ROOT ? resolve(env.LBC_INGEST_PATH_ROOT) : undefined,
    maxBytes: bytes(env, 'LBC_INGEST_MAX_BYTES', DEFAULT_INGEST_SETTINGS.maxBytes),
    maxUnpackedBytes: bytes(env, 'LBC_INGEST_MAX_UNPACKED_BYTES', DEFAULT_INGEST_SETTINGS.maxUnpackedBytes),
  };
}
