/**
 * BTF from outside is checked in a worker thread with a heap cap and a time limit: a hostile file
 * costs at most those, is refused with an LBC_ERR_BTF_* code, and the caller's event loop keeps
 * turning throughout.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkBtfInThread, sha256Of } from '@lbc/core';
import { parseBtf } from '@lbc/btf';
import { caught } from '@lbc/test-support/caught';
import { nameBombBtf, typedefLoopBtf } from '@lbc/test-support/hostile-btf';
import { useRegistry } from '@lbc/test-support/registry-fixture';

const vmlinux = readFileSync('/sys/kernel/btf/vmlinux');

/** Runs `work` while a 10 ms timer ticks on this thread; returns its result and the longest gap between ticks. */
async function whileTicking<T>(work: () => Promise<T>): Promise<{ result: T; maxGapMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 10);
  try {
    return { result: await work(), maxGapMs };
  } finally {
    clearInterval(tick);
  }
}

describe('checking BTF in a thread', () => {
  it("the host's vmlinux BTF: the same type count as parsing it here, with this event loop free", async () => {
    const { result, maxGapMs } = await whileTicking(() => checkBtfInThread(vmlinux));
    expect(result).toBe(parseBtf(vmlinux).count);
    expect(maxGapMs).toBeLessThan(250);
  });

  it('the 16 MB name bomb is LBC_ERR_BTF_INVALID, at once', async () => {
    const t = performance.now();
    const err = await caught(() => checkBtfInThread(nameBombBtf().raw));
    expect(err.code).toBe('LBC_ERR_BTF_INVALID');
    expect(err.message).toMatch(/16777216 bytes long/);
    expect(performance.now() - t).toBeLessThan(10_000);
  });

  it('two typedefs naming each other are LBC_ERR_BTF_INVALID naming the loop', async () => {
    const err = await caught(() => checkBtfInThread(typedefLoopBtf()));
    expect(err.code).toBe('LBC_ERR_BTF_INVALID');
    expect(err.message).toMatch(/type loop: typedef 1 'ping' → typedef 2 'pong'/);
  });

  it('a parse that outgrows its heap cap kills only its thread: LBC_ERR_BTF_CHECK_LIMIT, and this process lives on', async () => {
    const err = await caught(() => checkBtfInThread(vmlinux, { heapMb: 24 }));
    expect(err.code).toBe('LBC_ERR_BTF_CHECK_LIMIT');
    expect(err.details).toMatchObject({ reason: 'memory', heapMb: 24 });
    expect(await checkBtfInThread(vmlinux)).toBeGreaterThan(100_000);
  });

  it('a parse past its time is LBC_ERR_BTF_CHECK_LIMIT, answered at the limit', async () => {
    const t = performance.now();
    const err = await caught(() => checkBtfInThread(vmlinux, { timeoutMs: 50 }));
    expect(err.code).toBe('LBC_ERR_BTF_CHECK_LIMIT');
    expect(err.details).toMatchObject({ reason: 'time', timeoutMs: 50 });
    expect(performance.now() - t).toBeLessThan(2_000);
  });
});

describe('the registry checks through the thread', () => {
  const env = useRegistry('lbc-btf-check-', { btfCheck: { heapMb: 24 } });

  it('refused BTF (a bomb, a loop, one over the heap cap) is not registered, stored or published', async () => {
    for (const [btf, code] of [[nameBombBtf().raw, 'LBC_ERR_BTF_INVALID'], [typedefLoopBtf(), 'LBC_ERR_BTF_INVALID'], [vmlinux, 'LBC_ERR_BTF_CHECK_LIMIT']] as const) {
      const err = await caught(() => env.registry.register({ btf, release: 'evil', arch: 'x86_64', source: 'upload' }));
      expect(err.code).toBe(code);
      expect(env.registry.get(sha256Of(btf))).toBeNull();
      expect(env.registry.readBtf(sha256Of(btf))).toBeNull();
    }
    expect(env.registry.list()).toEqual([]);
  });
});
