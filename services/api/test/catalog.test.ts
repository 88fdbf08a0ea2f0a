/**
 * The catalog API over app.inject: kernels filtered by distro/release/arch with nearest releases,
 * struct layouts, prototypes, function search and types of the host kernel, the errors for
 * unknown kernels and names, and a first query that finds the catalog still building.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { release as osRelease, tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, FuncPrototype, FuncSearchResult, KernelInfo, KernelList, StructLayout, TypeLookup } from '@lbc/contract';
import { KernelCatalog, registerHostKernel } from '@lbc/core';
import { installErrorHandlers } from '../src/error-handler.ts';
import { catalogRoutes } from '../src/catalog/catalog-routes.ts';
import { tinyBtf } from '@lbc/test-support/tiny-btf';
import { startHarness, type Harness } from '@lbc/test-support/api-harness';

let h: Harness;
let host: KernelInfo;
beforeAll(async () => {
  h = await startHarness();
  host = (await registerHostKernel(h.registry))!;
  await h.registry.register({ btf: tinyBtf('catalog_a'), release: '6.1.0-48-cloud-amd64', arch: 'x86_64', distro: 'debian', source: 'upload' });
  await h.registry.register({ btf: tinyBtf('catalog_b'), release: '5.14.0-362.el9.x86_64', arch: 'x86_64', distro: 'rhel', source: 'upload' });
  await h.registry.register({ btf: tinyBtf('catalog_c'), release: '6.1.0-48-cloud-arm64', arch: 'aarch64', distro: 'debian', source: 'upload' });
});
afterAll(async () => {
  await h?.close();
});

const get = (url: string) => h.app.inject({ method: 'GET', url });
const errorOf = (res: { json(): unknown }) => (res.json() as ErrorBody).error;
const kid = () => host.btfSha256.slice(0, 12);

describe('GET /v1/kernels with filters', () => {
  it('filters by distro, arch and release (wildcards), and lists the nearest releases when none matches', async () => {
    const byDistro = (await get('/v1/kernels?distro=rhel')).json() as KernelList;
    expect(byDistro.kernels.map((k) => k.release)).toEqual(['5.14.0-362.el9.x86_64']);
    const byArch = (await get('/v1/kernels?arch=aarch64')).json() as KernelList;
    expect(byArch.kernels.map((k) => k.release)).toEqual(['6.1.0-48-cloud-arm64']);
    const exact = (await get(`/v1/kernels?release=${encodeURIComponent(osRelease())}`)).json() as KernelList;
    expect(exact).toEqual({ kernels: [expect.objectContaining({ btfSha256: host.btfSha256 })] });
    const pattern = (await get('/v1/kernels?release=6.1.0-48-*&arch=x86_64')).json() as KernelList;
    expect(pattern.kernels.map((k) => k.release)).toEqual(['6.1.0-48-cloud-amd64']);

    const unknown = (await get('/v1/kernels?release=6.1.0-50-cloud-amd64&arch=x86_64')).json() as KernelList;
    expect(unknown.kernels).toEqual([]);
    expect(unknown.nearest![0]!.release).toBe('6.1.0-48-cloud-amd64');
    expect(unknown.nearest!.every((k) => k.arch === 'x86_64')).toBe(true);

    const bad = await get('/v1/kernels?arch=mips');
    expect(bad.statusCode).toBe(400);
    expect(errorOf(bad).code).toBe('LBC_ERR_BAD_REQUEST');
    expect((await get('/v1/kernels')).json().kernels).toHaveLength(4);
  });
});

describe('catalog of the host kernel', () => {
  it('a first query indexes the kernel without holding up other requests', async () => {
    const first = get(`/v1/kernels/${kid()}/structs/task_struct`);
    // Wait until the build is running, then time other requests while it is.
    while ((await get(`/v1/kernels/${kid()}/catalog`)).json().state !== 'building') await new Promise((r) => setTimeout(r, 5));
    const latencies: number[] = [];
    while ((await get(`/v1/kernels/${kid()}/catalog`)).json().state === 'building') {
      const t = performance.now();
      expect((await get('/v1/kernels')).statusCode).toBe(200);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(250);
    const res = await first;
    expect(res.statusCode).toBe(200);
    const state = (await get(`/v1/kernels/${kid()}/catalog`)).json();
    expect(state).toMatchObject({ kernel: host.btfSha256, state: 'ready' });
  });

  it('GET structs/:name: members with offsets, sizes, flattened paths and holes', async () => {
    const res = await get(`/v1/kernels/${kid()}/structs/task_struct`);
    const layout = res.json() as StructLayout;
    expect(layout).toMatchObject({ kernel: host.btfSha256, kind: 'struct', name: 'task_struct' });
    expect(layout.size).toBeGreaterThan(1000);
    expect(layout.cachelines).toBe(Math.ceil(layout.size / 64));
    const comm = layout.members.find((m) => m.path === 'comm')!;
    expect(comm).toMatchObject({ name: 'comm', depth: 0, type: 'char[16]', decl: 'char comm[16]', kind: 'array', size: 16, bitSize: 0, bitOffset: comm.offset * 8 });
    expect(comm).toHaveProperty('holeAfter');
    expect(comm).toHaveProperty('bitHoleAfter');
    expect(layout.members.find((m) => m.path === 'se.run_node.rb_left')).toMatchObject({ depth: 2, type: 'struct rb_node *' });
    // struct prefix, and depth=0 for the direct members only.
    const shallow = (await get(`/v1/kernels/${kid()}/structs/struct%20task_struct?depth=0`)).json() as StructLayout;
    expect(shallow.members.every((m) => m.depth === 0)).toBe(true);
    expect(shallow.members.length).toBe(layout.memberCount);
    // By release instead of hash.
    expect((await get(`/v1/kernels/${encodeURIComponent(osRelease())}/structs/file`)).json().name).toBe('file');
  });

  it('GET funcs/:name and the function search', async () => {
    const f = (await get(`/v1/kernels/${kid()}/funcs/do_filp_open`)).json() as FuncPrototype;
    expect(f).toMatchObject({
      name: 'do_filp_open',
      returns: 'struct file *',
      variadic: false,
      params: [{ name: 'dfd', type: 'int' }, { name: 'pathname', type: 'struct filename *' }, { name: 'op', type: 'const struct open_flags *' }],
    });
    const search = (await get(`/v1/kernels/${kid()}/funcs?like=tcp_%25&returns=int&argType=${encodeURIComponent('struct sock *')}&limit=500`)).json() as FuncSearchResult;
    expect(search.funcs.length).toBeGreaterThan(10);
    expect(search.funcs.every((fn) => fn.name.startsWith('tcp_') && fn.returns === 'int' && fn.params.some((p) => p.type === 'struct sock *'))).toBe(true);
    const limited = (await get(`/v1/kernels/${kid()}/funcs?like=tcp_*&limit=2`)).json() as FuncSearchResult;
    expect(limited).toMatchObject({ truncated: true, funcs: { length: 2 } });
    expect((await get(`/v1/kernels/${kid()}/funcs?limit=0`)).statusCode).toBe(400);
  });

  it('GET types/:name', async () => {
    const pid = (await get(`/v1/kernels/${kid()}/types/pid_t`)).json() as TypeLookup;
    expect(pid.types).toEqual([{ kind: 'typedef', name: 'pid_t', c: 'pid_t', size: 4, resolvesTo: ['__kernel_pid_t', 'int'] }]);
    const mapType = (await get(`/v1/kernels/${kid()}/types/enum%20bpf_map_type`)).json() as TypeLookup;
    expect(mapType.types[0]!.values).toContainEqual({ name: 'BPF_MAP_TYPE_ARRAY', value: '2' });
    const ts = (await get(`/v1/kernels/${kid()}/types/task_struct`)).json() as TypeLookup;
    expect(ts.types[0]).toMatchObject({ kind: 'struct', c: 'struct task_struct' });
    expect(ts.types[0]!.memberCount).toBeGreaterThan(100);
  });

  it('unknown names are 404s with suggestions; unknown or ambiguous kernels and bad names are clear errors', async () => {
    const typo = await get(`/v1/kernels/${kid()}/structs/task_strcut`);
    expect(typo.statusCode).toBe(404);
    expect(errorOf(typo)).toMatchObject({ code: 'LBC_ERR_STRUCT_NOT_FOUND', details: { suggestions: expect.arrayContaining(['task_struct']) } });
    const func = await get(`/v1/kernels/${kid()}/funcs/tcp_sendmsgg`);
    expect(errorOf(func)).toMatchObject({ code: 'LBC_ERR_FUNC_NOT_FOUND', details: { suggestions: expect.arrayContaining(['tcp_sendmsg']) } });
    expect(errorOf(await get(`/v1/kernels/${kid()}/types/pid_tt`)).code).toBe('LBC_ERR_TYPE_NOT_FOUND');

    const kernel = await get('/v1/kernels/6.1.0-50-cloud-amd64/structs/task_struct');
    expect(kernel.statusCode).toBe(404);
    expect(errorOf(kernel)).toMatchObject({ code: 'LBC_ERR_KERNEL_UNKNOWN' });
    expect((errorOf(kernel).details!.suggestions as { release: string }[])[0]!.release).toBe('6.1.0-48-cloud-amd64');

    // Two kernels of one release on different arches: the release alone does not say which.
    await h.registry.register({ btf: tinyBtf('catalog_d'), release: '6.1.0-48-cloud-amd64', arch: 'aarch64', source: 'upload' });
    const ambiguous = await get('/v1/kernels/6.1.0-48-cloud-amd64/types/int');
    expect(ambiguous.statusCode).toBe(400);
    expect(errorOf(ambiguous)).toMatchObject({ code: 'LBC_ERR_KERNEL_AMBIGUOUS', details: { candidates: { length: 2 } } });

    const badName = await get(`/v1/kernels/${kid()}/structs/${encodeURIComponent('a;drop')}`);
    expect(badName.statusCode).toBe(400);
    expect(errorOf(badName).code).toBe('LBC_ERR_BAD_REQUEST');
  });

  it('a tiny uploaded BTF gets a catalog too (its one int type)', async () => {
    const tiny = (await get('/v1/kernels/5.14.0-362.el9.x86_64/types/catalog_b')).json() as TypeLookup;
    expect(tiny.types).toEqual([{ kind: 'int', name: 'catalog_b', c: 'catalog_b', size: 4 }]);
  });
});

describe('kernels added through the API', () => {
  it('are indexed in the background right after the upload; the host kernel waits for its first query', async () => {
    const btf = tinyBtf('uploaded_kernel');
    const sha = createHash('sha256').update(btf).digest('hex');
    const put = await h.app.inject({ method: 'PUT', url: `/v1/kernels/${sha}?release=6.6.0-1-amd64&arch=x86_64`, headers: { 'content-type': 'application/octet-stream' }, payload: btf });
    expect(put.statusCode).toBe(201);
    let state = '';
    for (let i = 0; i < 200 && state !== 'ready'; i++) {
      state = (await get(`/v1/kernels/${sha}/catalog`)).json().state;
      if (state !== 'ready') await new Promise((r) => setTimeout(r, 25));
    }
    expect(state).toBe('ready');
    // A fresh harness: its host kernel is registered but not indexed until asked about.
    const fresh = await startHarness();
    try {
      const own = (await registerHostKernel(fresh.registry))!;
      await new Promise((r) => setTimeout(r, 200));
      expect((await fresh.app.inject({ url: `/v1/kernels/${own.btfSha256}/catalog` })).json().state).toBe('absent');
    } finally {
      await fresh.close();
    }
  });
});

describe('a catalog that is still building', () => {
  it('answers 503 LBC_ERR_CATALOG_BUILDING with Retry-After, then serves once built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-catalog-api-'));
    const catalog = new KernelCatalog({ registry: h.registry, dir, waitMs: 0 });
    const app = Fastify();
    installErrorHandlers(app, 1024);
    catalogRoutes(app, catalog);
    try {
      const res = await app.inject({ method: 'GET', url: `/v1/kernels/${host.btfSha256}/funcs/do_filp_open` });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res).code).toBe('LBC_ERR_CATALOG_BUILDING');
      await catalog.prebuild(host.btfSha256);
      const again = await app.inject({ method: 'GET', url: `/v1/kernels/${host.btfSha256}/funcs/do_filp_open` });
      expect(again.statusCode).toBe(200);
    } finally {
      await app.close();
      await catalog.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
