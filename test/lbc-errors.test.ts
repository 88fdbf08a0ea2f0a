/**
 * Errors that name their real cause, each found with a real program: a map the kernel refuses, a
 * uretprobe section libbpf cannot attach, unknown program and map names (and C names that look
 * like the API's own), an object used before it is ready, an fentry on a function this kernel
 * lacks, and the CLI writing into a closed pipe.
 */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Lbc, isLbcError } from 'lbc-client';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { LBC_BIN } from '@lbc/test-support/run-cli';

const env = useServiceFixture('lbc-errors-');
const options = (extra: Record<string, unknown> = {}) => ({ server: env.service.url, cacheDir: join(env.dir, 'cache'), ...extra });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error & { code?: string; details?: Record<string, unknown> });
const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as Error & { code?: string; details?: Record<string, unknown> };
  }
  return undefined;
};

/** libbpf-tools' cpudist shape: a map whose size user space sets before load. */
const SIZED_LATER = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 0);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");
SEC("tracepoint/sched/sched_switch")
int on_switch(void *ctx) { u32 k = 0; u64 v = 1; bpf_map_update_elem(&start, &k, &v, BPF_ANY); return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

const URETPROBES = `
#include "lbc.h"
SEC("uretprobe/readline") int printret(void *ctx) { return 0; }
SEC("uretprobe//bin/bash:readline") int bash_readline(void *ctx) { return 0; }
SEC("uretprobe//no/such/dir/bash:readline") int missing_binary(void *ctx) { return 0; }
SEC("uretprobe/bash:lbc_no_such_symbol") int missing_symbol(void *ctx) { return 0; }
SEC("uprobe/libc.so.6:getppid") int libc_getppid(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

/** A C map named like the maps record's old member, a program named like an array method. */
const CLASHING = `
#include "lbc.h"
LBC_ARRAY(close, u64, 1);
LBC_HASH(constructor, u32, u32, 4);
SEC("tracepoint/sched/sched_process_exec")
int map(void *ctx) { u32 k = 0; u64 *v = bpf_map_lookup_elem(&close, &k); if (v) __sync_fetch_and_add(v, 1); return 0; }
SEC("tracepoint/sched/sched_process_exit")
int other(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

const FENTRY = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
SEC("fentry/lbc_no_such_kernel_function")
int BPF_PROG(on_missing) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

describe('errors that name the real cause', () => {
  it('a map the kernel refuses names the map, its type and the likely reason; setting the size fixes it', async () => {
    const err = await failure(new Lbc('cpudist_like', SIZED_LATER, options()).ready);
    expect(isLbcError(err, 'LBC_ERR_MAP_CREATE')).toBe(true);
    expect(err!.message).toMatch(/map 'start' \(hash, key 4 B, value 8 B, max_entries 0\)/);
    expect(err!.message).toMatch(/max_entries is 0.*lbc\.maps\.start\.maxEntries/);
    expect(err!.details).toMatchObject({ map: 'start', mapType: 'hash', maxEntries: 0 });

    const lbc = await new Lbc('cpudist_like', SIZED_LATER, options({ load: false })).ready;
    try {
      lbc.maps.start.maxEntries = 128;
      await lbc.load();
      expect(lbc.maps.start.maxEntries).toBe(128);
    } finally {
      lbc.close();
    }
  });

  it('uprobe sections: no binary, a binary not found, a symbol not in it each say so; a good one attaches', async () => {
    const lbc = await new Lbc('uretprobes', URETPROBES, options({ attach: false })).ready;
    try {
      const noBinary = thrown(() => lbc.attach('printret'));
      expect(isLbcError(noBinary, 'LBC_ERR_ATTACH')).toBe(true);
      expect(noBinary!.message).toMatch(/names the function readline but no binary/);
      expect(noBinary!.message).toContain("lbc.programs.printret.attachUretprobe(-1, '/bin/bash', 'readline')");

      const noFile = thrown(() => lbc.attach('missing_binary'));
      expect(isLbcError(noFile, 'LBC_ERR_LIBRARY_NOT_FOUND')).toBe(true);
      expect(noFile!.message).toMatch(/binary \/no\/such\/dir\/bash not found \(tried \/no\/such\/dir\/bash\)/);

      const noSymbol = thrown(() => lbc.attach('missing_symbol'));
      expect(isLbcError(noSymbol, 'LBC_ERR_SYMBOL_NOT_FOUND')).toBe(true);
      expect(noSymbol!.message).toMatch(/SEC\("uretprobe\/bash:lbc_no_such_symbol"\): lbc_no_such_symbol in \/\S*bin\/bash/);

      expect(lbc.attach('bash_readline')).toBeDefined();
      expect(lbc.attach('libc_getppid')).toBeDefined();
    } finally {
      lbc.close();
    }
    // Auto-attach leaves the binary-less one for attaching by hand, as libbpf-tools' bashreadline does.
    const auto = await new Lbc('uretprobes', URETPROBES.replace(/^SEC\("uretprobe\/\/no.*$|^SEC\("uretprobe\/bash:lbc.*$/gm, ''), options()).ready;
    try {
      expect(auto.unattached).toEqual([{ prog: 'printret', section: 'uretprobe/readline' }]);
    } finally {
      auto.close();
    }
  });

  it('unknown names list the real ones; C names called close, constructor or map are reached by their names', async () => {
    const lbc = await new Lbc('clashing', CLASHING, options({ load: false })).ready;
    try {
      const noProg = thrown(() => {
        lbc.programs.typo.autoload = false;
      });
      expect(isLbcError(noProg, 'LBC_ERR_PROGRAM_NOT_FOUND')).toBe(true);
      expect(noProg!.message).toMatch(/clashing has no program "typo"; it has: map, other/);
      const noMap = thrown(() => lbc.maps.typo.get(0));
      expect(isLbcError(noMap, 'LBC_ERR_MAP_NOT_FOUND')).toBe(true);
      expect(noMap!.message).toMatch(/clashing has no map "typo"; it has: close, constructor/);

      expect(lbc.programs.map.name).toBe('map');
      expect([...lbc.programs].map((p) => p.name)).toEqual(['map', 'other']);
      expect(lbc.programs.length).toBe(2);
      lbc.programs.other.autoload = false;
      expect(Object.keys(lbc.maps)).toEqual(['close', 'constructor']);
      expect('close' in lbc.maps && 'typo' in lbc.maps).toBe(false);
      await lbc.load();
      await lbc.attach();
      const child = spawn('/bin/true');
      await new Promise((r) => child.once('exit', r));
      expect(Number(lbc.maps.close.get(0))).toBeGreaterThanOrEqual(1);
      // TypeScript sees Object's constructor in the name; at run time it is the C map.
      expect((lbc.maps.constructor as unknown as { typeName: string }).typeName).toBe('hash');
    } finally {
      lbc.close();
    }
  });

  it('an object used before it is ready says so with its own code, not LBC_ERR_CLOSED', async () => {
    const lbc = new Lbc('clashing', CLASHING, options());
    for (const use of [() => lbc.maps, () => lbc.programs, () => lbc.rodata, () => lbc.attach('map'), () => lbc.program('map')]) {
      const err = thrown(use);
      expect(err?.code).toBe('LBC_ERR_NOT_READY');
      expect(err!.message).toMatch(/not ready yet.*await lbc\.ready/);
    }
    await lbc.ready;
    lbc.close();
    expect(thrown(() => lbc.maps)?.code).toBe('LBC_ERR_CLOSED');
  });

  it('an fentry on a function this kernel lacks says the function is not in this kernel', async () => {
    const err = await failure(new Lbc('fentry_missing', FENTRY, options()).ready);
    expect(isLbcError(err, 'LBC_ERR_KERNEL_FUNCTION_MISSING')).toBe(true);
    expect(err!.message).toMatch(/on_missing.*lbc_no_such_kernel_function is not a function of this kernel/);
    expect(err!.details).toMatchObject({ prog: 'on_missing', function: 'lbc_no_such_kernel_function', errnoName: 'ESRCH' });
  });

  it('lbc struct task_struct --json | head ends quietly when head closes the pipe', async () => {
    // A real pipe (200 KB of JSON, more than it holds) into a real head, as a shell runs it.
    const line = `set -o pipefail; "${process.execPath}" "${LBC_BIN}" struct task_struct --json --server ${env.service.url} | head -2 >/dev/null`;
    const child = spawn('bash', ['-c', line], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.once('close', (c) => r(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

});
