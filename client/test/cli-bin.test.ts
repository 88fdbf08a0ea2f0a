import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

describe('the lbc executable', () => {
  it('`npx lbc` works from the repository root and lists every command', () => {
    const out = execFileSync('npx', ['--no-install', 'lbc', '--help'], { cwd: resolve(import.meta.dirname, '..', '..'), encoding: 'utf8' });
    for (const cmd of ['compile', 'run', 'inspect', 'kernels']) expect(out).toContain(cmd);
  });
});

describe('lbc --version', () => {
  it("prints the client package's version, from the snapshot and from dist/cli.js alike", () => {
    const root = resolve(import.meta.dirname, '..');
    const { version } = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(resolve(root, 'bin', 'lbc'), ['--version'], { encoding: 'utf8' }).trim()).toBe(version);
    expect(execFileSync(process.execPath, [resolve(root, 'bin', 'lbc.mjs'), '-V'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});
