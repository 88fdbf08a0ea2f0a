import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const CLIENT = resolve(import.meta.dirname, '..');
const REPO = resolve(CLIENT, '..');
const CLI = resolve(CLIENT, 'dist', 'cli.js');

// Plain node, as a user runs it: no tsx loader and none of the test suite's switches to the sources.
const { NODE_OPTIONS: _options, LBC_CLIENT_FROM_SOURCE: _source, ...userEnv } = process.env;

let dir: string;
let tracer: string;

/**
 * Runs node ARGS with a module hook that records every module it resolves, so a test can tell
 * which files ran (dist/ or src/ through tsx).
 */
function traced(args: string[]): { out: string; modules: string[] } {
  const log = join(dir, `modules-${Math.random().toString(36).slice(2)}.log`);
  const out = execFileSync(process.execPath, ['--import', tracer, ...args], { cwd: REPO, env: { ...userEnv, LBC_TEST_MODULE_LOG: log }, encoding: 'utf8' });
  return { out, modules: existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [] };
}

describe('the built client (dist/)', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [resolve(CLIENT, 'scripts', 'build.mjs')], { env: userEnv });
    dir = mkdtempSync(join(tmpdir(), 'lbc-dist-'));
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(
      hooks,
      `import { appendFileSync } from 'node:fs';
       export async function resolve(specifier, context, next) {
         const found = await next(specifier, context);
         appendFileSync(process.env.LBC_TEST_MODULE_LOG, found.url + '\\n');
         return found;
       }`,
    );
    tracer = join(dir, 'trace.mjs');
    writeFileSync(tracer, `import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)});`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('node dist/cli.js runs as plain JavaScript and lists every command; the lazy chunks stay unloaded', () => {
    const { out, modules } = traced([CLI, '--help']);
    for (const cmd of ['compile', 'run', 'inspect', 'kernels']) expect(out).toContain(cmd);
    expect(modules.filter((m) => /\/tsx\/|\.ts$/.test(m))).toEqual([]);
    // The HTTP stack (cache miss only) and the spinner (a wait at a terminal only) are chunks of their own.
    expect(modules.filter((m) => /\/(service-client|ora)-\w+\.js$/.test(m))).toEqual([]);
    expect(modules.some((m) => m.includes('/cli-chunks/'))).toBe(true);
  });

  it('the bundle finds the native addon from dist/ (lbc inspect loads it)', () => {
    const { out } = traced([CLI, 'inspect', 'maps', '--json']);
    expect(Array.isArray(JSON.parse(out))).toBe(true);
  });

  it("import('lbc-client') under plain node loads dist/index.js, exposes Lbc, and leaves the HTTP stack unloaded", () => {
    const script = "const m = await import('lbc-client'); console.log(JSON.stringify({ Lbc: typeof m.Lbc, LbcError: typeof m.LbcError }));";
    const { out, modules } = traced(['--input-type=module', '-e', script]);
    expect(JSON.parse(out)).toEqual({ Lbc: 'function', LbcError: 'function' });
    expect(modules).toContain(pathToFileURL(resolve(CLIENT, 'dist', 'index.js')).href);
    expect(modules.filter((m) => /\/tsx\/|\.ts$|undici/.test(m))).toEqual([]);
  });

  it('bin/lbc.mjs runs the build when there is one', () => {
    const { out, modules } = traced([resolve(CLIENT, 'bin', 'lbc.mjs'), '--help']);
    expect(out).toContain('Usage: lbc');
    expect(modules).toContain(pathToFileURL(CLI).href);
    expect(modules.filter((m) => /\/tsx\/|\.ts$/.test(m))).toEqual([]);
  });

  it('the startup snapshot keeps its source one byte per character, and a character past U+00FF fails the build', async () => {
    const bundle = readFileSync(resolve(CLIENT, 'dist', 'cli-snapshot.cjs'), 'utf8');
    expect(bundle).not.toMatch(/[^\u0000-\u00ff]/u);
    const { assertOneByteSource } = (await import(pathToFileURL(resolve(CLIENT, 'scripts', 'snapshot.mjs')).href)) as { assertOneByteSource(file: string): void };
    const latin1 = join(dir, 'latin1.cjs');
    writeFileSync(latin1, 'const r = /(ns|\u00b5s)/;\n');
    expect(() => assertOneByteSource(latin1)).not.toThrow();
    const wide = join(dir, 'wide.cjs');
    writeFileSync(wide, 'const r = / \u2192 SEC/;\n');
    expect(() => assertOneByteSource(wide)).toThrow(/U\+2192 .*\\u escape/);
  });
});
