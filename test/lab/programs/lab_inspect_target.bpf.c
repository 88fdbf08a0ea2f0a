// The program `lbc inspect` looks at: a tracepoint program with a name longer than the kernel keeps
// (15 characters), a global function other programs attach to (fentry traces the program itself,
// freplace replaces the function), maps with BTF key and value types, and an XDP program that is
// only loaded.
#include "lbc.h"

struct lab_open_key {
	u32 pid;
	char comm[16];
};

struct lab_open_stats {
	u64 opens;
	u64 first_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct lab_open_key);
	__type(value, struct lab_open_stats);
} lab_inspect_opens_by_process SEC(".maps");

const volatile u32 target_pid;
// What lab_inspect_count returned, summed: 1 a call as written, 1000 once freplace replaced it.
u64 counted;

// Global (not static, not inlined): verified on its own, and replaceable by an EXT program.
__noinline int lab_inspect_count(u32 pid)
{
	struct lab_open_key key = { .pid = pid };
	struct lab_open_stats fresh = { .opens = 1, .first_ns = bpf_ktime_get_ns() }, *stats;

	bpf_get_current_comm(key.comm, sizeof(key.comm));
	stats = bpf_map_lookup_elem(&lab_inspect_opens_by_process, &key);
	if (stats)
		__sync_fetch_and_add(&stats->opens, 1);
	else
		bpf_map_update_elem(&lab_inspect_opens_by_process, &key, &fresh, BPF_NOEXIST);
	// Hidden from clang: a constant return would be folded into the caller, which then never
	// sees what a replacement returns.
	int counted_one = 1;
	barrier_var(counted_one);
	return counted_one;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int lab_inspect_openat_target(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;

	if (pid != target_pid)
		return 0;
	__sync_fetch_and_add(&counted, lab_inspect_count(pid));
	return 0;
}

SEC("xdp")
int lab_inspect_xdp_pass_everything(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
