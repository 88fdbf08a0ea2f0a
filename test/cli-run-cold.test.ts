/**
 * A cold `lbc run` (a program the service never compiled) sends its compile request before it
 * loads the native addon, and loads the addon while the service compiles; what fails on the way
 * (the compile, the addon) is reported as it always was. The CLI's order is read from its own
 * stderr, which is written synchronously: undici's debug log (NODE_DEBUG=undici) says when the
 * request is written and its answer read, the dynamic loader's (LD_DEBUG=files) when the addon is.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { LBC_BIN, runCli } from '@lbc/test-support/run-cli';
import { childLines } from '@lbc/test-support/child-lines';

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const ADDON_MAPPED = /lbc_native[^\n]*\.node/;

/** Whether process `pid` has the native addon mapped. */
function addonLoaded(pid: number): boolean {
  try {
    return ADDON_MAPPED.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return false;
  }
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * In front of the service: passes every request on and its answer back, but holds a compile's
 * answer until `holdUntil()` is true (at most 10 s), as a slow compile would.
 */
async function startGate(service: string, holdUntil: () => boolean): Promise<{ url: string; compiles: () => number; close: () => Promise<void> }> {
  let compiles = 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const compile = req.method === 'POST' && req.url!.startsWith('/v1/compile');
      if (compile) compiles++;
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'accept', 'authorization']) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
      const answer = await fetch(service + req.url, { method: req.method, headers, ...(body.length ? { body: new Uint8Array(body) } : {}) });
      const bytes = Buffer.from(await answer.arrayBuffer());
      for (let i = 0; compile && i < 400 && !holdUntil(); i++) await sleep(25);
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(bytes);
    })().catch((err: Error) => res.destroy(err));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    compiles: () => compiles,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('a cold lbc run (CLI, real service and kernel)', () => {
  const env = useServiceFixture('lbc-cli-run-cold-', (dir) => {
    copyFileSync(join(FIXTURES, 'broken.bpf.c'), join(dir, 'broken.bpf.c'));
    // A dynamic loader that finds this libelf first cannot load the addon: "file too short".
    mkdirSync(join(dir, 'bad-libs'));
    writeFileSync(join(dir, 'bad-libs', 'libelf.so.1'), '');
  });
  let round = 0;
  /** execcount.bpf.c made new (a comment), so the service compiles it. */
  const newProgram = () => {
    const dir = join(env.dir, `p${++round}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'execcount.bpf.c'), `${readFileSync(join(FIXTURES, 'execcount.bpf.c'), 'utf8')}\n/* ${round} ${process.pid} ${Date.now()} */\n`);
    return join(dir, 'execcount.bpf.c');
  };

  it('writes the compile request, loads the addon while the service compiles, then reads the answer and prints events', async () => {
    let pid = 0;
    const gate = await startGate(env.service.url, () => pid !== 0 && addonLoaded(pid));
    const child = spawn(process.execPath, [LBC_BIN, 'run', '--json', newProgram(), '--server', gate.url, '--cache-dir', join(env.dir, 'cache')], {
      env: { ...process.env, NODE_DEBUG: 'undici', LD_DEBUG: 'files' },
    });
    pid = child.pid!;
    const io = childLines(child);
    try {
      for (let i = 0; i < 600 && io.out.length === 0; i++) {
        if (child.exitCode !== null) throw new Error(`lbc run exited early:\n${io.err()}`);
        const t = spawn('/bin/true');
        await once(t, 'exit');
        await sleep(50);
      }
      expect(JSON.parse(io.out[0]!)).toMatchObject({ map: expect.stringMatching(/_events$/), event: { comm: expect.any(String) } });
      const err = io.err();
      expect(err).toContain('(compiled)');
      const sent = err.search(/UNDICI \d+: sending request to POST http:\/\/127\.0\.0\.1:\d+\/v1\/compile/);
      const loaded = err.search(/file=\S*lbc_native\S*\.node \[0\];\s+dynamically loaded/);
      const answered = err.search(/UNDICI \d+: received response to POST http:\/\/127\.0\.0\.1:\d+\/v1\/compile\S* - HTTP 200/);
      expect(sent).toBeGreaterThan(-1);
      expect(loaded).toBeGreaterThan(sent);
      expect(answered).toBeGreaterThan(loaded);
      expect(gate.compiles()).toBe(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await gate.close();
    }
  });

  it('an addon that cannot load fails the cold run as it fails a cached one: LBC_ERR_NATIVE, after the object was compiled and cached', async () => {
    const cache = join(env.dir, 'cache-bad-addon');
    const program = newProgram();
    const badLibs = { LD_LIBRARY_PATH: join(env.dir, 'bad-libs') };
    const cold = await runCli(['run', program, '--server', env.service.url, '--cache-dir', cache], { env: badLibs });
    expect(cold.code).toBe(1);
    expect(cold.stderr).toContain('LBC_ERR_NATIVE');
    expect(cold.stderr).toContain('libelf.so.1: file too short');
    expect(readdirSync(join(cache, 'requests'))).toHaveLength(1);
    // The same program again comes from the cache (no request) and meets the addon where it always did.
    const cached = await runCli(['run', program, '--server', 'http://127.0.0.1:1', '--cache-dir', cache], { env: badLibs });
    expect(cached.code).toBe(1);
    expect(cached.stderr).toBe(cold.stderr);
  });

  it('a compile error is reported as lbc compile reports it, also where the addon could not have loaded', async () => {
    const compiled = await runCli(['compile', 'broken.bpf.c', '--server', env.service.url, '-o', join(env.dir, 'broken.o')], { cwd: env.dir });
    expect(compiled.code).toBe(1);
    expect(compiled.stderr).toContain('LBC_ERR_COMPILE');
    const run = await runCli(['run', 'broken.bpf.c', '--server', env.service.url, '--cache-dir', join(env.dir, 'cache')], { cwd: env.dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(compiled.stderr);
    const badAddon = await runCli(['run', 'broken.bpf.c', '--server', env.service.url, '--cache-dir', join(env.dir, 'cache')], {
      cwd: env.dir,
      env: { LD_LIBRARY_PATH: join(env.dir, 'bad-libs') },
    });
    expect(badAddon.code).toBe(1);
    expect(badAddon.stderr).toBe(compiled.stderr);
  });
});
