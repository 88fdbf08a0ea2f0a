/**
 * Which principal each route needs, in one table: probes and the API description are public,
 * reading and compiling is for any tenant, and everything that changes what the farm knows
 * (kernels, ingestion, tokens) or shows it whole (metrics, dashboard) is for admins.
 */
export type Access = 'public' | 'tenant' | 'admin';

// /internal: routes between farm nodes, which check the farm's own credential (core/ingest/package-access.ts).
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/docs', '/internal'];
const ADMIN_PREFIXES = ['/metrics', '/dashboard', '/v1/tokens'];
/** Writes open to every tenant; any other write is an admin's (safe default for routes added later). */
const TENANT_WRITES = new Set(['POST /v1/compile']);

const under = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);

/** url: the route template when known (request.routeOptions.url), else the raw path. */
export function accessFor(method: string, url: string): Access {
  if (PUBLIC_PREFIXES.some((p) => under(url, p))) return 'public';
  if (ADMIN_PREFIXES.some((p) => under(url, p))) return 'admin';
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'tenant';
  return TENANT_WRITES.has(`${method} ${url}`) ? 'tenant' : 'admin';
}
