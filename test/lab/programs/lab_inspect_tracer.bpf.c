// BPF programs on a BPF program, for `lbc inspect` to find their targets: fentry on
// lab_inspect_target's tracepoint program and freplace of its global function lab_inspect_count.
// Both targets are set at run time to the loaded program's fd (setAttachTarget(func, program)).
#include "lbc.h"

u64 fentry_hits;
u64 replaced_calls;

SEC("fentry/lab_inspect_openat_target")
int BPF_PROG(lab_inspect_fentry_on_bpf_prog, void *tp_ctx)
{
	__sync_fetch_and_add(&fentry_hits, 1);
	return 0;
}

SEC("freplace/lab_inspect_count")
int lab_inspect_count_replacement(u32 pid)
{
	__sync_fetch_and_add(&replaced_calls, 1);
	return 1000;
}

char LICENSE[] SEC("license") = "GPL";
