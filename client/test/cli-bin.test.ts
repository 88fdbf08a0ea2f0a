import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('the lbc executable', () => {
  it('`npx lbc` works from the repository root and lists every command', () => {
    const out = execFileSync('npx', ['--no-install', 'lbc', '--help'], { cwd: resolve(import.meta.dirname, '..', '..'), encoding: 'utf8' });
    for (const cmd of ['compile', 'run', 'inspect', 'kernels']) expect(out).toContain(cmd);
  });
});
