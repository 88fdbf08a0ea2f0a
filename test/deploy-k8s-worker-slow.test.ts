/**
 * The slow tier (LBC_SLOW=1; not part of the default run): deploy/kubernetes/worker.yaml's pod played
 * on this machine's Docker engine, as a kubelet would wire it: the Docker-in-Docker engine sidecar
 * with the manifest's args and mounts, each emptyDir a volume, the compile image put into the
 * sidecar's engine (the manifest pulls it from a registry; here `docker save | docker load`), and the
 * worker with the ConfigMap's and its own environment. A compile over HTTP (API and Redis beside it,
 * Redis under the Service's name) must run in a sandbox of the sidecar's engine, none of the host's.
 *
 * Two stand-ins, because this machine has no registry and its engine cannot grant every capability
 * (its bounding set lacks CAP_SYS_RESOURCE, so `--privileged` fails): the engine image is Debian's
 * docker.io on the service base instead of docker:27-dind, and "privileged" is every capability the
 * engine can give, unconfined seccomp/AppArmor/system paths and the host's cgroups.
 *   LBC_SLOW=1 npx vitest run test/deploy-k8s-worker-slow.test.ts
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { CompileResult, KernelInfo } from '@lbc/contract';

const SLOW = process.env.LBC_SLOW === '1';
const REPO = resolve(import.meta.dirname, '..');
const ENGINE_IMAGE = 'lbc-dind-standin:trixie';

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  initContainers: Container[];
  containers: Container[];
  volumes: { name: string; emptyDir?: object }[];
}

const docker = (args: string[], input?: Buffer | string) =>
  execFileSync('docker', args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'], timeout: 900_000 }).trim();

describe.skipIf(!SLOW)('slow tier: the Kubernetes worker pod with its Docker-in-Docker engine, played on this engine (LBC_SLOW=1)', () => {
  const prefix = `lbck8s${process.pid}`;
  const manifest = parse(readFileSync(join(REPO, 'deploy/kubernetes/worker.yaml'), 'utf8')) as { spec: { template: { spec: PodSpec } } };
  const pod = manifest.spec.template.spec;
  const configMap = parseAllDocuments(readFileSync(join(REPO, 'deploy/kubernetes/config.yaml'), 'utf8'))[0]!.toJS() as { data: Record<string, string> };
  const engine = pod.initContainers.find((c) => c.name === 'engine')!;
  const worker = pod.containers.find((c) => c.name === 'worker')!;
  const workerEnv: Record<string, string> = { ...configMap.data, ...Object.fromEntries(worker.env!.map((e) => [e.name, e.value])) };
  const socketPath = workerEnv.DOCKER_HOST!.replace(/^unix:\/\//, '');
  const names = { network: `${prefix}-net`, engine: `${prefix}-engine`, worker: `${prefix}-worker`, redis: `${prefix}-redis`, api: `${prefix}-api` };
  const volume = (name: string) => `${prefix}-${name}`;
  const mounts = (c: Container) => c.volumeMounts!.flatMap((m) => ['-v', `${volume(m.name)}:${m.mountPath}`]);
  const timings: Record<string, number> = {};
  let nested: string[];
  let api: string;

  beforeAll(async () => {
    for (const script of ['containers/build-offline.sh', 'deploy/build-service-base.sh']) execFileSync('bash', [script], { cwd: REPO, stdio: 'ignore', timeout: 600_000 });
    let started = performance.now();
    execFileSync('docker-compose', ['--env-file', 'deploy/offline.env', 'build', 'api', 'worker'], { cwd: REPO, stdio: 'ignore', timeout: 900_000 });
    try {
      docker(['image', 'inspect', ENGINE_IMAGE]);
    } catch {
      docker(['build', '-t', ENGINE_IMAGE, '-'], `FROM lbc-service-base:trixie\nRUN apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io iptables && rm -rf /var/lib/apt/lists/*\n`);
    }
    timings.images = Math.round(performance.now() - started);

    docker(['network', 'create', names.network]);
    for (const v of pod.volumes) {
      expect(v.emptyDir, v.name).toBeDefined();
      docker(['volume', 'create', volume(v.name)]);
    }
    started = performance.now();
    docker(['run', '-d', '--name', names.engine, '--cap-add', 'ALL', '--cap-drop', 'SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
      '--security-opt', 'systempaths=unconfined', '--cgroupns', 'host', '-v', '/sys/fs/cgroup:/sys/fs/cgroup', ...mounts(engine), ENGINE_IMAGE, ...engine.args!]);
    const socketVolume = engine.volumeMounts!.find((m) => socketPath.startsWith(`${m.mountPath}/`))!;
    const hostSocket = join(docker(['volume', 'inspect', volume(socketVolume.name), '--format', '{{.Mountpoint}}']), socketPath.slice(socketVolume.mountPath.length));
    nested = ['-H', `unix://${hostSocket}`];
    for (let i = 0; ; i++) {
      try {
        docker([...nested, 'version']);
        break;
      } catch (err) {
        if (i > 60) throw err;
        await sleep(1000);
      }
    }
    timings.engine = Math.round(performance.now() - started);
    started = performance.now();
    docker([...nested, 'load', '-q'], execFileSync('docker', ['save', workerEnv.LBC_IMAGE!], { maxBuffer: 2 * 1024 * 1024 * 1024 }));
    timings.imageIntoEngine = Math.round(performance.now() - started);

    const redisHost = new URL(workerEnv.REDIS_URL!).hostname;
    docker(['run', '-d', '--name', names.redis, '--network', names.network, '--network-alias', redisHost, 'lbc-service-base:trixie', 'redis-server', '--protected-mode', 'no', '--save', '', '--maxmemory-policy', 'noeviction']);
    docker(['run', '-d', '--name', names.api, '--network', names.network, '-p', '127.0.0.1::8080', '-e', `REDIS_URL=${workerEnv.REDIS_URL}`, '-e', 'LBC_AUTH=off', 'lbc-api:local']);
    docker(['run', '-d', '--name', names.worker, '--network', names.network, ...Object.entries(workerEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]), ...mounts(worker), 'lbc-worker:local']);
    api = `http://${docker(['port', names.api, '8080'])}`;
    started = performance.now();
    for (;;) {
      // A deadline on each try: Node 20's fetch can leave a request reset by Docker's port proxy unsettled.
      if (await fetch(`${api}/readyz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false)) break;
      if (performance.now() - started > 300_000) throw new Error(`the API did not get ready:\n${docker(['logs', '--tail', '20', names.api])}`);
      await sleep(500);
    }
    timings.apiReady = Math.round(performance.now() - started);
  }, 1_800_000);

  afterAll(() => {
    const quiet = (args: string[]) => {
      try {
        docker(args);
      } catch {
        /* already gone */
      }
    };
    quiet(['rm', '-f', names.worker, names.api, names.redis, names.engine]);
    for (const v of pod.volumes) quiet(['volume', 'rm', volume(v.name)]);
    quiet(['network', 'rm', names.network]);
    console.log(`kubernetes worker pod on this engine: ${JSON.stringify(timings)} ms`);
  }, 300_000);

  it('compiles over HTTP in a sandbox of the sidecar engine, and the worker leaves none behind when stopped', async () => {
    const { kernels } = (await (await fetch(`${api}/v1/kernels`, { signal: AbortSignal.timeout(30_000) })).json()) as { kernels: KernelInfo[] };
    const host = kernels.find((k) => k.source === 'host')!;
    const source = `#include "lbc.h"
LBC_ARRAY(hits, u64, 1);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&hits, &k); if (v) __sync_fetch_and_add(v, 1); return 0; /* ${prefix} */ }
char LICENSE[] SEC("license") = "GPL";
`;
    const started = performance.now();
    const res = await fetch(`${api}/v1/compile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'k8s-pod', source, target: { release: host.release, arch: host.arch }, waitMs: 120_000 }),
      signal: AbortSignal.timeout(150_000),
    });
    timings.compile = Math.round(performance.now() - started);
    expect(res.status).toBe(200);
    const result = (await res.json()) as CompileResult;
    const object = Buffer.from(await (await fetch(`${api}${result.artifact.url}`, { signal: AbortSignal.timeout(30_000) })).arrayBuffer());
    expect(object.readUInt16LE(18)).toBe(247); // EM_BPF

    const workerHost = docker(['inspect', names.worker, '--format', '{{.Config.Hostname}}']);
    const owned = (engineArgs: string[]) => docker([...engineArgs, 'ps', '-a', '-q', '--filter', `label=lbc.owner.host=${workerHost}`]).split('\n').filter(Boolean);
    expect(owned(nested).length).toBeGreaterThan(0);
    expect(owned([])).toEqual([]);
    const sandbox = JSON.parse(docker([...nested, 'inspect', owned(nested)[0]!]))[0] as { Config: { User: string }; HostConfig: { NetworkMode: string; ReadonlyRootfs: boolean; Binds: string[] } };
    expect(sandbox.Config.User).toBe('65534:65534');
    expect(sandbox.HostConfig).toMatchObject({ NetworkMode: 'none', ReadonlyRootfs: true });
    expect(sandbox.HostConfig.Binds.every((b) => b.startsWith(`${workerEnv.LBC_DATA_DIR}/`))).toBe(true);

    docker(['stop', '-t', '60', names.worker]);
    expect(owned(nested)).toEqual([]);
  }, 300_000);
});
