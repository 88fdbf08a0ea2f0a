/**
 * Which principal each route needs, in one table: probes and the API description are public,
 * reading and compiling is for any tenant, registering a kernel's BTF is for admins and for callers
 * the auth mode lets in without a token (the client uploads its own kernel once), and everything
 * that changes what the farm knows (ingestion, tokens) or shows it whole (metrics, dashboard) is for
 * admins. A loopback caller in loopback mode is not an admin unless LBC_LOOPBACK_ADMIN=1.
 */
import type { MetricsAccess } from '@lbc/core';

export type Access = 'public' | 'tenant' | 'register' | 'admin';

// /internal: routes between farm nodes, which check the farm's own credential (core/ingest/package-access.ts).
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/docs', '/internal'];
const ADMIN_PREFIXES = ['/dashboard', '/v1/tokens'];
/** Writes open to every tenant; any other write is an admin's (safe default for routes added later). */
const TENANT_WRITES = new Set(['POST /v1/compile', 'POST /v1/verify']);
const REGISTER_WRITES = new Set(['PUT /v1/kernels/:sha256']);

const under = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);

export interface AccessSettings {
  /** Who reads /metrics (LBC_METRICS_ACCESS). */
  metrics: MetricsAccess;
}

/** url: the route template when known (request.routeOptions.url), else the raw path. */
export function accessFor(method: string, url: string, settings: AccessSettings = { metrics: 'admin' }): Access {
  if (PUBLIC_PREFIXES.some((p) => under(url, p))) return 'public';
  if (under(url, '/metrics')) return settings.metrics;
  if (ADMIN_PREFIXES.some((p) => under(url, p))) return 'admin';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'tenant';
  if (REGISTER_WRITES.has(`${method} ${url}`)) return 'register';
  return TENANT_WRITES.has(`${method} ${url}`) ? 'tenant' : 'admin';
}
