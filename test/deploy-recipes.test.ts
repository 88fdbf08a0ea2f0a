/**
 * The deploy recipes (docker-compose.yml, deploy/kubernetes, deploy/systemd, the service
 * Dockerfile). docker-compose.yml runs for real: the farm comes up from the file with Debian's
 * docker-compose (images built offline: deploy/offline.env), compiles a program over HTTP in the
 * worker's sandbox on the host engine, and goes down leaving nothing behind. The Kubernetes
 * manifests are validated against the Kubernetes API schemas offline (kubernetes-models' validators,
 * generated from the Kubernetes OpenAPI spec), and the rest is checked as far as this machine can
 * without a cluster: only environment variables the services read, Redis at noeviction with AOF,
 * workers seeing their data directory at the engine's path, systemd accepting the units.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_LIMITS, type CompileResult, type KernelInfo } from '@lbc/contract';
import { DEFAULT_IMAGE } from '@lbc/core';

const REPO = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(REPO, path), 'utf8');

/** Every LBC_* / REDIS_URL / DOCKER_HOST the service sources mention, plus one per limit. */
function knownEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/\b(LBC_[A-Z0-9_]+|REDIS_URL|DOCKER_HOST)\b/g)) names.add(m[1]!);
    }
  };
  for (const part of ['core', 'api', 'worker', 'farm']) walk(join(REPO, 'services', part, 'src'));
  for (const field of Object.keys(DEFAULT_LIMITS)) names.add(`LBC_LIMIT_${field.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
  // Prefixes of names built at run time are not settings.
  for (const n of [...names]) if (n.endsWith('_')) names.delete(n);
  return names;
}
const KNOWN = knownEnvNames();
const unknownNames = (names: Iterable<string>) => [...names].filter((n) => !KNOWN.has(n));

type Env = Record<string, string>;
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string };
  command?: string[];
  environment?: Env;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const { redis, api, worker } = compose.services;
  const dockerfile = read('deploy/service.Dockerfile');

  it('runs Redis with noeviction and AOF on a volume', () => {
    expect(redis!.command!.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis!.command!.join(' ')).toMatch(/--appendonly yes/);
    expect(redis!.volumes).toContain('redis-data:/data');
  });

  it('builds api and worker from targets of the service Dockerfile, and the compile image the services expect', () => {
    for (const [svc, target] of [[api, 'api'], [worker, 'worker']] as const) {
      expect(svc!.build).toMatchObject({ dockerfile: 'deploy/service.Dockerfile', target });
      expect(dockerfile).toMatch(new RegExp(`^FROM build AS ${target}$`, 'm'));
    }
    expect(compose.services['compile-image']!.image).toBe(`\${LBC_IMAGE:-${DEFAULT_IMAGE}}`);
    expect(existsSync(join(REPO, compose.services['compile-image']!.build!.context, 'Dockerfile'))).toBe(true);
    expect(worker!.depends_on).toMatchObject({ 'compile-image': { condition: 'service_completed_successfully' }, redis: { condition: 'service_healthy' } });
    for (const entry of dockerfile.matchAll(/"(services\/[^"]+\.ts)"/g)) expect(existsSync(join(REPO, entry[1]!))).toBe(true);
  });

  it('gives workers the engine and their data directory at the same path; the API neither', () => {
    expect(worker!.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    const data = worker!.volumes!.find((v) => v.includes('LBC_DATA_DIR'))!;
    const [host, inside] = data.split(/:(?=\$)/);
    expect(host).toBe(inside);
    expect(worker!.environment!.LBC_DATA_DIR).toBe(host);
    expect(api!.volumes!.join(' ')).not.toMatch(/docker\.sock/);
  });

  it("runs offline from images scripts/setup.sh builds: deploy/offline.env names them", () => {
    const offline = Object.fromEntries(read('deploy/offline.env').split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=') as [string, string]));
    const base = /^image=\$\{LBC_SERVICE_BASE:-([^}]+)\}$/m.exec(read('deploy/build-service-base.sh'))![1];
    expect(offline).toEqual({ LBC_SERVICE_BASE: base, LBC_REDIS_IMAGE: base });
    expect(read('deploy/build-service-base.sh')).toMatch(/install .*redis-server/);
    expect(read('scripts/setup.sh')).toMatch(/^bash deploy\/build-service-base\.sh$/m);
    expect(read('scripts/setup.sh')).toMatch(/^bash containers\/build-offline\.sh$/m);
    expect(read('scripts/setup.sh')).toMatch(/^packages=\(.* docker-compose /m);
    expect(read('docker-compose.yml')).toMatch(/image: \$\{LBC_REDIS_IMAGE:-redis:7\}/);
    expect(read('docker-compose.yml')).toMatch(/BASE: \$\{LBC_SERVICE_BASE:-node:20-bookworm\}/);
  });

  it('sets only environment variables the services read', () => {
    const names = Object.values(compose.services).flatMap((s) => Object.keys(s.environment ?? {}));
    expect(names.length).toBeGreaterThan(5);
    expect(unknownNames(names)).toEqual([]);
  });
});

/**
 * docker-compose (v1, Debian's package) on this repository's compose file, in a project of its own.
 * Asynchronous: a build takes minutes, and a test worker blocked that long misses vitest's RPC deadline.
 */
async function compose(project: string, env: NodeJS.ProcessEnv, args: string[], timeoutMs = 600_000): Promise<string> {
  try {
    const { stdout } = await run('docker-compose', ['--env-file', 'deploy/offline.env', '--project-name', project, ...args], {
      cwd: REPO,
      env,
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw new Error(`docker-compose ${args.join(' ')}: ${e.message} (scripts/setup.sh installs docker-compose)`);
    throw new Error(`docker-compose ${args.join(' ')} exited ${e.code}:\n${((e.stdout ?? '') + (e.stderr ?? '')).slice(-4000)}`);
  }
}
const run = promisify(execFile);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('docker-compose.yml, run', () => {
  const project = `lbcdeploy${process.pid}`;
  const docker = new Dockerode();
  const projectFilter = { label: [`com.docker.compose.project=${project}`] };
  const timings: Record<string, number> = {};
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: string;
  let token: string;
  let workerHostname: string;
  let up = false;

  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await step();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  };
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${api}${path}`, { signal: AbortSignal.timeout(150_000), ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

  beforeAll(async () => {
    // The images deploy/offline.env names, as scripts/setup.sh builds them (each exits at once when present).
    for (const script of ['containers/build-offline.sh', 'deploy/build-service-base.sh']) await run('bash', [script], { cwd: REPO, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    dataDir = mkdtempSync(join(tmpdir(), 'lbc-compose-'));
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    env = { ...process.env, LBC_DATA_DIR: dataDir, LBC_API_PUBLISH: `127.0.0.1:${port}` };
    // `up` builds only missing images: build the sources as they are now (the npm ci layer is reused).
    await timed('build', () => compose(project, env, ['build', 'api', 'worker'], 900_000));
    up = true;
    await timed('up', () => compose(project, env, ['up', '-d']));
    const started = performance.now();
    for (;;) {
      // With a deadline: a request Docker's port proxy accepts before the API listens is reset, and
      // Node 20's fetch can then leave its promise unsettled.
      const ready = await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
      if (ready) break;
      if (performance.now() - started > 300_000) throw new Error(`the API did not get ready:\n${await compose(project, env, ['logs', '--tail', '40'])}`);
      await sleep(500);
    }
    timings.ready = Math.round(performance.now() - started);
    const created = await compose(project, env, ['exec', '-T', 'api', 'node', 'services/farm/bin/lbc-admin.mjs', 'token', 'create', '--tenant', 'compose-test', '--admin']);
    token = /lbc_[A-Za-z0-9_-]+/.exec(created)![0];
    const workerId = (await compose(project, env, ['ps', '-q', 'worker'])).trim();
    workerHostname = (await docker.getContainer(workerId).inspect()).Config.Hostname;
  }, 1_200_000);

  afterAll(async () => {
    if (up) await timed('down', () => compose(project, env, ['down', '--volumes', '--remove-orphans', '--timeout', '60']));
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    console.log(`docker-compose farm: ${JSON.stringify(timings)} ms`);
  }, 300_000);

  it('compiles a program over HTTP, with a token, in a hardened compile container the worker started on the host engine', async () => {
    expect(await fetch(`${api}/v1/kernels`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status)).toBe(401);
    const { kernels } = (await (await call('/v1/kernels')).json()) as { kernels: KernelInfo[] };
    const host = kernels.find((k) => k.source === 'host')!;
    expect(host).toBeDefined();
    const source = `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k); if (v) __sync_fetch_and_add(v, 1); return 0; /* ${project} */ }
char LICENSE[] SEC("license") = "GPL";
`;
    const started = performance.now();
    const res = await call('/v1/compile', { method: 'POST', body: JSON.stringify({ name: 'compose', source, target: { release: host.release, arch: host.arch }, waitMs: 120_000 }) });
    timings.compile = Math.round(performance.now() - started);
    expect(res.status).toBe(200);
    const result = (await res.json()) as CompileResult;
    expect(result.cached).toBe(false);
    const object = Buffer.from(await (await call(result.artifact.url)).arrayBuffer());
    expect(sha256Of(object)).toBe(result.artifact.sha256);
    // ELF, 64-bit, little endian, e_machine EM_BPF (247).
    expect(object.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(object.readUInt16LE(18)).toBe(247);

    // The worker's image has no compiler: clang ran in the compile image, in containers the
    // worker labelled as its own, with the sandbox's hardening.
    await expect(compose(project, env, ['exec', '-T', 'worker', 'sh', '-c', 'command -v clang || command -v clang-19'])).rejects.toThrow(/exited 1/);
    const sandboxes = await docker.listContainers({ all: true, filters: { label: [`lbc.owner.host=${workerHostname}`] } });
    expect(sandboxes.length).toBeGreaterThan(0);
    for (const summary of sandboxes) {
      const info = await docker.getContainer(summary.Id).inspect();
      expect(info.Config.Image).toBe(DEFAULT_IMAGE);
      expect(info.Config.User).toBe('65534:65534');
      expect(info.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true, CapDrop: ['ALL'] });
      expect(info.HostConfig.Binds!.every((bind) => bind.startsWith(`${dataDir}/`))).toBe(true);
    }
  }, 180_000);

  it('comes down leaving no container, network or volume (the worker removes its sandboxes on SIGTERM)', async () => {
    await timed('down', () => compose(project, env, ['down', '--volumes', '--remove-orphans', '--timeout', '60']));
    up = false;
    expect(await docker.listContainers({ all: true, filters: projectFilter })).toEqual([]);
    expect(await docker.listNetworks({ filters: projectFilter })).toEqual([]);
    expect((await docker.listVolumes({ filters: projectFilter })).Volumes ?? []).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { label: [`lbc.owner.host=${workerHostname}`] } })).toEqual([]);
  }, 180_000);
});

interface K8sContainer {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef: { name: string } }[];
  ports?: { containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  restartPolicy?: string;
  securityContext?: { privileged?: boolean };
}
interface K8sVolume {
  name: string;
  hostPath?: { path: string };
  emptyDir?: object;
}
interface K8sDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  data?: Env;
  spec?: {
    selector?: { matchLabels?: Env } & Env;
    template?: { metadata: { labels: Env }; spec: { containers: K8sContainer[]; initContainers?: K8sContainer[]; volumes?: K8sVolume[] } };
    ports?: { port: number; targetPort?: number }[];
  };
}

/**
 * Validates one object against the Kubernetes API schema of its apiVersion and kind, offline:
 * kubernetes-models ships ajv validators generated from the Kubernetes OpenAPI spec (1.30+ API:
 * native sidecars, appArmorProfile). An apiVersion or kind it does not know fails too.
 */
async function validateK8s(doc: K8sDoc): Promise<void> {
  const [group, version] = doc.apiVersion.includes('/') ? doc.apiVersion.split('/') : ['', doc.apiVersion];
  const specifier = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const models = (await import(/* @vite-ignore */ specifier)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = models[doc.kind];
  if (!Model) throw new Error(`no Kubernetes schema for ${doc.apiVersion} ${doc.kind}`);
  new Model(doc).validate();
}

describe('deploy/kubernetes', () => {
  const dir = join(REPO, 'deploy/kubernetes');
  const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: { name: string }[] };
  const docs = kustomization.resources.flatMap((file) =>
    parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((d) => {
      expect(d.errors, file).toEqual([]);
      return d.toJS() as K8sDoc;
    }),
  );
  const byName = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;
  const containerOf = (doc: K8sDoc) => doc.spec!.template!.spec.containers[0]!;
  const podContainers = (doc: K8sDoc) => [...(doc.spec!.template!.spec.initContainers ?? []), ...doc.spec!.template!.spec.containers];

  it('lists every manifest of the folder, and each object validates against the Kubernetes schema of its kind', async () => {
    const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect(kustomization.resources.slice().sort()).toEqual(files.sort());
    for (const doc of docs) await expect(validateK8s(doc), `${doc.kind}/${doc.metadata.name}`).resolves.toBeUndefined();
    // The validators catch what a cluster would refuse: a DaemonSet without its selector, a port as a word.
    const worker = structuredClone(byName('DaemonSet', 'lbc-worker'));
    delete worker.spec!.selector;
    await expect(validateK8s(worker)).rejects.toThrow(/selector/);
    const api = structuredClone(byName('Deployment', 'lbc-api'));
    (containerOf(api).ports![0] as { containerPort: unknown }).containerPort = 'http';
    await expect(validateK8s(api)).rejects.toThrow(/containerPort must be integer/);
    await expect(validateK8s({ ...api, apiVersion: 'apps/v1', kind: 'Deplyoment' })).rejects.toThrow(/no Kubernetes schema/);
  });

  it('has Redis, the API and the workers, each selecting its own pods', () => {
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`).sort()).toEqual(
      ['ConfigMap/lbc-config', 'DaemonSet/lbc-worker', 'Deployment/lbc-api', 'Namespace/lbc', 'Service/lbc-api', 'Service/lbc-redis', 'StatefulSet/lbc-redis'].sort(),
    );
    for (const doc of docs.filter((d) => d.spec?.template)) expect(doc.spec!.template!.metadata.labels).toMatchObject(doc.spec!.selector!.matchLabels!);
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      const target = docs.find((d) => d.spec?.template && JSON.stringify(d.spec.template.metadata.labels) === JSON.stringify(svc.spec!.selector))!;
      expect(target, svc.metadata.name).toBeDefined();
      const port = svc.spec!.ports![0]!;
      expect(containerOf(target).ports!.map((p) => p.containerPort)).toContain(port.targetPort ?? port.port);
    }
  });

  it('runs Redis with noeviction and AOF on a persistent volume', () => {
    const redis = byName('StatefulSet', 'lbc-redis');
    expect(containerOf(redis).args!.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(containerOf(redis).args!.join(' ')).toMatch(/--appendonly yes/);
    expect(containerOf(redis).volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
  });

  it("gives each worker a Docker-in-Docker sidecar engine (no node socket), sharing its socket and the data directory at the same path", () => {
    const worker = byName('DaemonSet', 'lbc-worker');
    const pod = worker.spec!.template!.spec;
    // Nothing of the node's: containerd nodes have no Docker socket.
    expect(pod.volumes!.filter((v) => v.hostPath)).toEqual([]);
    for (const x of podContainers(worker)) expect(x.volumeMounts?.map((m) => m.mountPath) ?? [], x.name).not.toContain('/var/run/docker.sock');
    const c = pod.containers.find((x) => x.name === 'worker')!;
    const engine = pod.initContainers!.find((x) => x.name === 'engine')!;
    // A native sidecar: running before the worker starts, stopped after it.
    expect(engine.restartPolicy).toBe('Always');
    expect(engine.securityContext!.privileged).toBe(true);
    expect(engine.image).toMatch(/^docker:[\d.]+-dind$/);
    // DOCKER_HOST is the socket the sidecar's dockerd listens on, in a volume both mount.
    const dockerHost = c.env!.find((e) => e.name === 'DOCKER_HOST')!.value!;
    const socket = /^unix:\/\/(.+)$/.exec(dockerHost)![1]!;
    expect(engine.args).toContain(`--host=${dockerHost}`);
    expect(engine.args!.join(' ')).not.toMatch(/tcp:/);
    const socketDir = (mounts: K8sContainer) => mounts.volumeMounts!.find((m) => socket.startsWith(`${m.mountPath}/`))!;
    expect(socketDir(c).name).toBe(socketDir(engine).name);
    expect(socketDir(c).mountPath).toBe(socketDir(engine).mountPath);
    expect(pod.volumes!.find((v) => v.name === socketDir(c).name)!.emptyDir).toBeDefined();
    // The engine resolves bind mounts in its own filesystem: the data directory is at the same path there.
    const dataDir = c.env!.find((e) => e.name === 'LBC_DATA_DIR')!.value!;
    const data = c.volumeMounts!.find((m) => m.mountPath === dataDir)!;
    expect(engine.volumeMounts).toContainEqual({ name: data.name, mountPath: dataDir });
    // Its image store is an emptyDir, and it is filled with the compile image before the worker starts.
    expect(pod.volumes!.find((v) => v.name === engine.volumeMounts!.find((m) => m.mountPath === '/var/lib/docker')!.name)!.emptyDir).toBeDefined();
    const pull = pod.initContainers!.find((x) => x.name === 'compile-image')!;
    expect(pod.initContainers!.indexOf(pull)).toBeGreaterThan(pod.initContainers!.indexOf(engine));
    expect(pull.env).toContainEqual({ name: 'DOCKER_HOST', value: dockerHost });
    for (const x of podContainers(worker)) if (x !== engine) expect(x.securityContext?.privileged, x.name).toBeFalsy();
  });

  it('uses the images it declares, the compile image the services expect, and only known settings', () => {
    const declared = kustomization.images.map((i) => i.name);
    for (const name of ['Deployment/lbc-api', 'DaemonSet/lbc-worker']) {
      const [kind, n] = name.split('/') as [string, string];
      expect(declared).toContain(containerOf(byName(kind, n)).image);
    }
    const config = byName('ConfigMap', 'lbc-config');
    expect(config.data!.LBC_IMAGE).toBe(DEFAULT_IMAGE);
    const names = [...Object.keys(config.data!), ...docs.filter((d) => d.spec?.template).flatMap((d) => (containerOf(d).env ?? []).map((e) => e.name))];
    expect(unknownNames(names)).toEqual([]);
  });
});

describe('deploy/systemd', () => {
  const dir = join(REPO, 'deploy/systemd');
  const units = readdirSync(dir).filter((f) => f.endsWith('.service'));

  it('systemd-analyze verify accepts every unit (templates instantiated)', () => {
    expect(units.length).toBeGreaterThanOrEqual(3);
    const work = mkdtempSync(join(tmpdir(), 'lbc-units-'));
    try {
      const copies = units.map((u) => {
        const copy = join(work, u.replace('@.service', '@1.service'));
        copyFileSync(join(dir, u), copy);
        return copy;
      });
      // Exits non-zero and names the problem on an unknown key or a missing executable.
      const out = execFileSync('systemd-analyze', ['verify', ...copies], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe('');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('runs the launcher from the checkout with known settings, and configures Redis for the queue', () => {
    for (const unit of units) {
      const text = readFileSync(join(dir, unit), 'utf8');
      const exec = /^ExecStart=\/usr\/bin\/node --import tsx (\S+) (all|api|worker)$/m.exec(text);
      expect(exec, unit).not.toBeNull();
      expect(existsSync(join(REPO, exec![1]!))).toBe(true);
      const names = [...text.matchAll(/^Environment=([A-Z_0-9]+)=/gm)].map((m) => m[1]!);
      expect(unknownNames(names), unit).toEqual([]);
    }
    const redisConf = readFileSync(join(dir, 'lbc-redis.conf'), 'utf8');
    expect(redisConf).toMatch(/^maxmemory-policy noeviction$/m);
    expect(redisConf).toMatch(/^appendonly yes$/m);
  });
});
