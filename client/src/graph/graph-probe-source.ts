/**
 * The BPF engine's one program pair, compiled once per kernel by the farm and cached: an fentry and
 * an fexit program that every traced function gets a copy of (the same object opened once per
 * function, its programs retargeted with attachTarget and its constants set before load). The maps
 * are shared through reuseFd: one ring buffer, one per-task depth table, one rate counter.
 *
 * Arguments and the return value are read from the trampoline's context with bpf_probe_read_kernel
 * at a constant slot (the function's argument count), not by direct context loads: the verifier
 * then has no per-type rule to apply (5.10 refuses direct loads of, say, an `int *` argument).
 */
export const GRAPH_PROBE_NAME = 'lbc_graph';

export const GRAPH_MAX_ARGS = 6;

export const GRAPH_PROBE_SOURCE = `// lbc graph's BPF engine: one copy of this pair per traced function (see graph-probe-source.ts).
#include "lbc.h"

struct lbc_graph_event {
	u64 ts;
	u64 ret;
	u64 args[${GRAPH_MAX_ARGS}];
	u32 tid;
	u32 tgid;
	u32 func;
	u16 kind;
	u16 depth;
	char comm[16];
};

struct lbc_graph_task {
	u32 depth;
	u32 roots;
	/* Where FUNC's trampoline frame is: nested calls of this task run below it, on the same stack. */
	u64 root_frame;
};

/* Frames farther below FUNC's than this are on another stack (interrupts have their own). */
#define LBC_GRAPH_STACK_SPAN 32768

struct lbc_graph_rate {
	u64 second;
	u64 count;
	u64 dropped;
};

LBC_RINGBUF(graph_events, struct lbc_graph_event, 1 << 22);
LBC_HASH(graph_tasks, u32, struct lbc_graph_task, 16384);
LBC_ARRAY(graph_rate, struct lbc_graph_rate, 1);

/* Set per copy before load. */
const volatile u32 func_id = 0;
const volatile u32 is_root = 0;
const volatile u32 nargs = 0;
const volatile u32 read_args = 0;
const volatile u32 read_ret = 0;
const volatile u32 max_depth = 3;
const volatile u32 target_tgid = 0;
const volatile u64 max_rate = 0;
const volatile char target_comm[16] = {};

static __always_inline int lbc_graph_wanted(void)
{
	if (target_comm[0]) {
		char comm[16];
		bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
		for (int i = 0; i < 16; i++) {
			if (comm[i] != target_comm[i])
				return 0;
			if (!comm[i])
				break;
		}
	}
	if (!target_tgid)
		return 1;
	/* The command and what it starts: the task or one of its first ancestors. */
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
#pragma unroll
	for (int i = 0; i < 8; i++) {
		if (!t)
			return 0;
		if ((u32)BPF_CORE_READ(t, tgid) == target_tgid)
			return 1;
		t = BPF_CORE_READ(t, real_parent);
	}
	return 0;
}

/*
 * An interrupt taken while FUNC runs is not FUNC's call, though the task is the same: its frames are
 * on the interrupt stack, not just below FUNC's frame on the task's stack.
 */
static __always_inline u64 lbc_graph_frame(u64 *ctx)
{
	/* The context's address as a number: the verifier refuses arithmetic on the pointer itself. */
	void *where = ctx;
	u64 frame = 0;

	bpf_probe_read_kernel(&frame, sizeof(frame), &where);
	return frame;
}

static __always_inline int lbc_graph_on_task_stack(struct lbc_graph_task *t, u64 *ctx)
{
	u64 frame = lbc_graph_frame(ctx);

	return frame < t->root_frame && t->root_frame - frame < LBC_GRAPH_STACK_SPAN;
}

static __always_inline int lbc_graph_admit(u64 now)
{
	u32 zero = 0;
	struct lbc_graph_rate *r;

	if (!max_rate)
		return 1;
	r = bpf_map_lookup_elem(&graph_rate, &zero);
	if (!r)
		return 0;
	if (r->second != now / 1000000000ULL) {
		r->second = now / 1000000000ULL;
		r->count = 0;
	}
	__sync_fetch_and_add(&r->count, 1);
	if (r->count > max_rate) {
		__sync_fetch_and_add(&r->dropped, 1);
		return 0;
	}
	return 1;
}

static __always_inline void lbc_graph_emit(u64 *ctx, u16 kind, u32 depth, u64 now)
{
	struct lbc_graph_event *e;
	u64 pid_tgid = bpf_get_current_pid_tgid();

	if (!lbc_graph_admit(now))
		return;
	e = bpf_ringbuf_reserve(&graph_events, sizeof(*e), 0);
	if (!e)
		return;
	e->ts = now;
	e->ret = 0;
#pragma unroll
	for (int i = 0; i < ${GRAPH_MAX_ARGS}; i++)
		e->args[i] = 0;
	e->tid = (u32)pid_tgid;
	e->tgid = pid_tgid >> 32;
	e->func = func_id;
	e->kind = kind;
	e->depth = depth;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (kind == 0 && read_args && nargs > 0)
		bpf_probe_read_kernel(e->args, (nargs < ${GRAPH_MAX_ARGS} ? nargs : ${GRAPH_MAX_ARGS}) * 8, ctx);
	if (kind == 1 && read_ret)
		bpf_probe_read_kernel(&e->ret, 8, (void *)ctx + nargs * 8);
	bpf_ringbuf_submit(e, 0);
}

SEC("fentry/do_sys_openat2")
int lbc_graph_entry(u64 *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 now = bpf_ktime_get_ns();
	struct lbc_graph_task *t = bpf_map_lookup_elem(&graph_tasks, &tid);
	u32 depth;

	if (is_root) {
		if (!t) {
			struct lbc_graph_task fresh = {};

			if (!lbc_graph_wanted())
				return 0;
			bpf_map_update_elem(&graph_tasks, &tid, &fresh, BPF_ANY);
			t = bpf_map_lookup_elem(&graph_tasks, &tid);
			if (!t)
				return 0;
		}
		if (!t->roots)
			t->root_frame = lbc_graph_frame(ctx);
		t->roots++;
	} else if (!t || !lbc_graph_on_task_stack(t, ctx)) {
		return 0;
	}
	depth = t->depth;
	t->depth = depth + 1;
	if (depth <= max_depth)
		lbc_graph_emit(ctx, 0, depth, now);
	return 0;
}

SEC("fexit/do_sys_openat2")
int lbc_graph_exit(u64 *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 now = bpf_ktime_get_ns();
	struct lbc_graph_task *t = bpf_map_lookup_elem(&graph_tasks, &tid);
	u32 depth;

	if (!t || (!is_root && !lbc_graph_on_task_stack(t, ctx)))
		return 0;
	if (t->depth)
		t->depth--;
	depth = t->depth;
	if (is_root && t->roots)
		t->roots--;
	if (depth <= max_depth)
		lbc_graph_emit(ctx, 1, depth, now);
	if (is_root && !t->roots)
		bpf_map_delete_elem(&graph_tasks, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;
