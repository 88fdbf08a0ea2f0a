/**
 * The deploy recipes (docker-compose.yml, deploy/kubernetes, deploy/systemd, the service
 * Dockerfile) checked as far as this machine can without a registry or a cluster: they parse, name
 * only environment variables the services read, keep Redis at noeviction with AOF, mount the
 * workers' data directory at the same path as the engine sees it, and systemd accepts the units.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_LIMITS } from '@lbc/contract';
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
  for (const part of ['core', 'api', 'worker', 'server']) walk(join(REPO, 'services', part, 'src'));
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

  it('sets only environment variables the services read', () => {
    const names = Object.values(compose.services).flatMap((s) => Object.keys(s.environment ?? {}));
    expect(names.length).toBeGreaterThan(5);
    expect(unknownNames(names)).toEqual([]);
  });
});

interface K8sContainer {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef: { name: string } }[];
  ports?: { containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Env;
  spec?: {
    selector?: { matchLabels?: Env } & Env;
    template?: { metadata: { labels: Env }; spec: { containers: K8sContainer[]; volumes?: { name: string; hostPath?: { path: string } }[] } };
    ports?: { port: number; targetPort?: number }[];
  };
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

  it("mounts the node's engine and a hostPath data directory at the same path into the workers", () => {
    const worker = byName('DaemonSet', 'lbc-worker');
    const c = containerOf(worker);
    const dataDir = c.env!.find((e) => e.name === 'LBC_DATA_DIR')!.value!;
    const mount = c.volumeMounts!.find((m) => m.mountPath === dataDir)!;
    expect(worker.spec!.template!.spec.volumes!.find((v) => v.name === mount.name)!.hostPath!.path).toBe(dataDir);
    expect(c.volumeMounts!.map((m) => m.mountPath)).toContain('/var/run/docker.sock');
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
