// uprobe.multi with a glob, attached through the program object: one link on every matching
// function of a binary built here (libbpf 1.3+, which the shipped addon links statically).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lbc } from '../src/index.ts';
import { useNativeFixtures } from '@lbc/test-support/use-native-fixtures';
import { cachedLbc } from './object-setup-support.ts';

// Waits for a line on stdin, then calls each lbct_handle_* function N times (argv[1]) and lbct_other once.
const HANDLERS = `
#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) int lbct_handle_a(int x) { return x + 1; }
__attribute__((noinline)) int lbct_handle_b(int x) { return x * 2; }
__attribute__((noinline)) int lbct_other(int x) { return x - 1; }
int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  char line[8];
  volatile int sink = 0;
  if (!fgets(line, sizeof line, stdin)) return 1;
  for (long i = 0; i < n; i++) sink += lbct_handle_a((int)i) + lbct_handle_b((int)i);
  sink += lbct_other(sink);
  return sink == -12345;
}
`;

const env = useNativeFixtures();
let cacheDir: string;
let lbc: Lbc;
let binary: string;
beforeAll(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'lbc-uprobe-multi-cache-'));
  binary = env.fixtures.program('multi-handlers', HANDLERS);
  lbc = await cachedLbc(env.fixtures, cacheDir, 'uprobemulti', 'uprobe-multi').ready;
});
afterAll(() => {
  lbc?.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

async function runHandlers(times: number): Promise<void> {
  const child = spawn(binary, [String(times)], { stdio: ['pipe', 'ignore', 'ignore'] });
  try {
    await once(child, 'spawn');
    child.stdin.end('go\n');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('uprobe.multi', () => {
  it('SEC("uprobe.multi") is left to attachUprobeMulti by auto-attach', () => {
    expect(lbc.unattached).toEqual([{ prog: 'lbct_user_any', section: 'uprobe.multi' }]);
  });

  it('attachUprobeMulti(pid, binary, glob) fires on every matching function and on no other; destroy() detaches', async () => {
    const calls = () => Number(lbc.maps.calls.get(0));
    const link = lbc.programs.lbct_user_any.attachUprobeMulti(-1, binary, 'lbct_handle_*');
    await runHandlers(7);
    // 7 calls each of lbct_handle_a and lbct_handle_b; lbct_other does not match the glob.
    expect(calls()).toBe(14);
    link.destroy();
    await runHandlers(3);
    expect(calls()).toBe(14);
  });
});
