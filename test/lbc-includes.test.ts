/** Local headers and -D flags reach the compile: quoted includes from the source dir and includePaths, cflags and pylcc's env. */
import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lbc, isLbcError } from 'lbc-client';
import { useServiceFixture } from '@lbc/test-support/service-fixture';
import { runCli } from '@lbc/test-support/run-cli';

const PROGRAM = `
#include "lbc.h"
#include "local.h"
#include "shared/values.h"

LBC_ARRAY(seen, u64, 4);

SEC("tracepoint/sched/sched_process_exec")
int record_values(void *ctx)
{
  u32 k0 = 0, k1 = 1, k2 = 2;
  u64 a = LOCAL_VALUE, b = SHARED_VALUE, c = FROM_FLAG;
  bpf_map_update_elem(&seen, &k0, &a, BPF_ANY);
  bpf_map_update_elem(&seen, &k1, &b, BPF_ANY);
  bpf_map_update_elem(&seen, &k2, &c, BPF_ANY);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** A libbpf-tools layout: <vmlinux.h> and "vmlinux.h" with `-I x86`, where x86/vmlinux.h is the checkout's own. */
const TOOL = `
#include <vmlinux.h>
#include "vmlinux.h"
#include "bits.bpf.h"
LBC_SIZES(sizes);
SEC("tracepoint/sched/sched_process_exec")
int record_sizes(void *ctx)
{
  u32 k = 0;
  u64 v = sizeof(struct task_struct);
  bpf_map_update_elem(&sizes, &k, &v, BPF_ANY);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
const BITS = '#include "vmlinux.h"\n#include "lbc.h"\n#define LBC_SIZES(n) LBC_ARRAY(n, u64, 1)\n';
/** 3 MB that must never reach the service: it would be refused as too large, or break the compile. */
const LOCAL_VMLINUX = '#error the local vmlinux.h was used\n'.padEnd(3 << 20, '/');

describe('includes and flags', () => {
  const env = useServiceFixture('lbc-includes-', (dir) => {
    mkdirSync(join(dir, 'prog'));
    mkdirSync(join(dir, 'inc', 'shared'), { recursive: true });
    writeFileSync(join(dir, 'prog', 'valued.bpf.c'), PROGRAM);
    writeFileSync(join(dir, 'prog', 'local.h'), '#define LOCAL_VALUE 11\n');
    writeFileSync(join(dir, 'inc', 'shared', 'values.h'), '#include "more.h"\n#define SHARED_VALUE (MORE + 1)\n');
    writeFileSync(join(dir, 'inc', 'shared', 'more.h'), '#define MORE 21\n');
    mkdirSync(join(dir, 'tools', 'x86'), { recursive: true });
    writeFileSync(join(dir, 'tools', 'sizes.bpf.c'), TOOL);
    writeFileSync(join(dir, 'tools', 'bits.bpf.h'), BITS);
    writeFileSync(join(dir, 'tools', 'x86', 'vmlinux.h'), LOCAL_VMLINUX);
    writeFileSync(join(dir, 'tools', 'lbc.h'), '#error the local lbc.h was used\n');
  });

  it('a local vmlinux.h (libbpf-tools\' x86/vmlinux.h, -I x86) is never sent: the target kernel\'s is used', async () => {
    const lbc = await new Lbc('sizes', undefined, {
      cwd: join(env.dir, 'tools'),
      includePaths: [join(env.dir, 'tools', 'x86')],
      includes: { 'vmlinux.h': LOCAL_VMLINUX, 'x86/vmlinux.h': LOCAL_VMLINUX },
      server: env.service.url,
      cacheDir: join(env.dir, 'cache'),
    }).ready;
    const child = spawn('/bin/true');
    await new Promise((r) => child.once('exit', r));
    expect(Number(lbc.maps.sizes.get(0))).toBeGreaterThan(1000);
    lbc.close();
  });

  it('the CLI too: lbc compile tool.bpf.c -I x86 compiles against the target kernel\'s vmlinux.h', async () => {
    const r = await runCli(['compile', 'sizes.bpf.c', '-I', 'x86', '--server', env.service.url, '-o', join(env.dir, 'sizes.bpf.o')], { cwd: join(env.dir, 'tools') });
    expect(r.stderr).toContain('wrote');
    expect(r.code).toBe(0);
  });

  for (const [how, flags] of [
    ['cflags', { cflags: ['-DFROM_FLAG=33'] }],
    ['env (pylcc)', { env: '-DFROM_FLAG=33' }],
  ] as const) {
    it(`headers from the source dir and includePaths, -D via ${how}`, async () => {
      const lbc = await new Lbc('valued', undefined, {
        cwd: join(env.dir, 'prog'),
        includePaths: [join(env.dir, 'inc')],
        server: env.service.url,
        cacheDir: join(env.dir, 'cache'),
        ...flags,
      }).ready;
      const child = spawn('/bin/true');
      await new Promise((r) => child.once('exit', r));
      expect([0, 1, 2].map((k) => Number(lbc.maps.seen.get(k)))).toEqual([11, 22, 33]);
      lbc.close();
    });
  }

  it('a header that is nowhere to be found is a compile error naming it', async () => {
    const err = await new Lbc('valued', undefined, { cwd: join(env.dir, 'prog'), server: env.service.url, cacheDir: join(env.dir, 'cache'), cflags: ['-DFROM_FLAG=1'] }).ready.catch(
      (e: unknown) => e,
    );
    expect(isLbcError(err, 'LBC_ERR_COMPILE')).toBe(true);
    expect(JSON.stringify((err as { details?: unknown }).details)).toContain('shared/values.h');
  });
});
