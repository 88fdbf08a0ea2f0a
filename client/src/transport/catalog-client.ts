/**
 * The client's view of the kernel catalog API (/v1/kernels?…, /v1/kernels/:id/structs|funcs|types).
 * A catalog still being built answers 503 LBC_ERR_CATALOG_BUILDING: the call waits as the service
 * asks (Retry-After) and tries again, up to a deadline.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isLbcError,
  type FuncPrototype,
  type FuncSearchQuery,
  type FuncSearchResult,
  type KernelList,
  type KernelQuery,
  type StructLayout,
  type TypeLookup,
} from '@lbc/contract';
import { HttpTransport, type HttpOptions } from './http.ts';
import { resolveServer } from './server-url.ts';

const DEFAULT_BUILD_WAIT_MS = 120_000;

const query = (params: Record<string, string | number | undefined>): string => {
  const entries = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}` : '';
};

export class CatalogClient {
  readonly server: string;
  private readonly http: HttpTransport;
  private readonly buildWaitMs: number;

  constructor(options: HttpOptions & { server?: string; buildWaitMs?: number } = {}) {
    this.server = resolveServer(options.server);
    this.http = new HttpTransport(this.server, options);
    this.buildWaitMs = options.buildWaitMs ?? DEFAULT_BUILD_WAIT_MS;
  }

  async kernels(q: KernelQuery = {}): Promise<KernelList> {
    return this.get<KernelList>(`/v1/kernels${query({ distro: q.distro, release: q.release, arch: q.arch })}`);
  }

  async struct(kernel: string, name: string, opts: { depth?: number } = {}): Promise<StructLayout> {
    return this.get<StructLayout>(`${this.base(kernel)}/structs/${encodeURIComponent(name)}${query({ depth: opts.depth })}`);
  }

  async func(kernel: string, name: string): Promise<FuncPrototype> {
    return this.get<FuncPrototype>(`${this.base(kernel)}/funcs/${encodeURIComponent(name)}`);
  }

  async searchFuncs(kernel: string, q: FuncSearchQuery): Promise<FuncSearchResult> {
    return this.get<FuncSearchResult>(`${this.base(kernel)}/funcs${query({ like: q.like, returns: q.returns, argType: q.argType, limit: q.limit })}`);
  }

  async types(kernel: string, name: string): Promise<TypeLookup> {
    return this.get<TypeLookup>(`${this.base(kernel)}/types/${encodeURIComponent(name)}`);
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private base(kernel: string): string {
    return `/v1/kernels/${encodeURIComponent(kernel)}`;
  }

  private async get<T>(path: string): Promise<T> {
    const deadline = Date.now() + this.buildWaitMs;
    for (;;) {
      try {
        return (await this.http.json<T>({ method: 'GET', path, timeoutMs: 60_000 })).data;
      } catch (err) {
        if (!isLbcError(err, 'LBC_ERR_CATALOG_BUILDING') || Date.now() > deadline) throw err;
        const retryAfter = Number(err.details?.retryAfterSeconds ?? 2);
        await sleep(Math.min(Math.max(retryAfter, 1) * 1000, Math.max(0, deadline - Date.now())));
      }
    }
  }
}
