/**
 * Minimized BTF per object (kernels without their own BTF): its size against this kernel's whole
 * BTF for programs of growing CO-RE reach (goal < 1%), and what asking for it adds to a cold
 * compile through the service (a second sandbox container running bpftool gen min_core_btf).
 * Run: node --import tsx bench/min-btf.ts [runs]
 */
import { readFileSync, statSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { join } from 'node:path';
import { ServiceClient } from '../client/src/transport/index.ts';
import { startPrivateRedis } from '@lbc/test-support/redis';
import { startService } from '@lbc/test-support/service';
import { fmt, median, ratio, report, sampleMs } from './stats.ts';

const runs = Number(process.argv[2] ?? 8);
const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
const kernelBtf = statSync('/sys/kernel/btf/vmlinux').size;

const reads = (fields: string[]) => `#include "lbc.h"
LBC_RINGBUF(events, u64, 1 << 12);
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	u64 *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) return 0;
	*e = 0${fields.map((f) => ` + (u64)BPF_CORE_READ(t, ${f})`).join('')};
	bpf_ringbuf_submit(e, 0);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

const programs: [string, string][] = [
  ['execcount (task->real_parent->tgid)', readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'execcount.bpf.c'), 'utf8')],
  ['4 task_struct reads', reads(['tgid', 'pid', 'prio', 'flags'])],
  ['8 reads through mm, fs, files, signal', reads(['mm, total_vm', 'mm, start_stack', 'fs, umask', 'files, next_fd', 'signal, nr_threads', 'cred, uid.val', 'real_parent, pid', 'se.vruntime'])],
];

const redis = await startPrivateRedis();
const service = await startService({ redisUrl: redis.url });
const client = new ServiceClient({ server: service.url });
try {
  const target = { release: osRelease(), arch: arch as 'x86_64' | 'aarch64' };
  const sizes: [string, string][] = [];
  for (const [label, source] of programs) {
    const result = await client.compile({ name: 'minbtf', source, target, minBtf: true });
    const size = result.minBtf?.size ?? Number.NaN;
    sizes.push([label, `${size} bytes = ${((size / kernelBtf) * 100).toFixed(4)}% of ${kernelBtf} (object ${result.artifact.size} bytes)`]);
  }
  report('minimized BTF size per object', sizes);

  // Cold compiles: each run compiles a source never seen (a -D nonce), with and without minBtf.
  let nonce = Date.now();
  const cold = (minBtf: boolean) => sampleMs(runs, () => client.compile({ name: 'minbtf', source: programs[0]![1], cflags: [`-DNONCE=${nonce++}`], target, minBtf }));
  const plain = await cold(false);
  const withMin = await cold(true);
  report(`cold compile through the service, median of ${runs}`, [
    ['without minBtf', fmt(median(plain))],
    ['with minBtf', fmt(median(withMin))],
    ['ratio', ratio(median(withMin), median(plain))],
  ]);
} finally {
  await client.close();
  await service.stop();
  await redis.stop();
}
