/** Programs the worker tests compile. */

/** A tracepoint program using every kind of map the issue names, through lbc.h. */
export const TRACE_PROGRAM = `#include "lbc.h"
struct event { u32 pid; u64 ts; char comm[16]; };
struct key_t { u32 pid; s32 stack; };
LBC_HASH(counts, struct key_t, u64, 64);
LBC_PERF_OUTPUT(e_out, struct event, 0);
LBC_RINGBUF(events, struct event, 1 << 12);
LBC_STACK(stacks, 32);

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  struct key_t k = { .pid = _(t->tgid), .stack = bpf_get_stackid(ctx, &stacks, 0) };
  u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  struct event e = { .pid = k.pid, .ts = bpf_ktime_get_ns() };
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  bpf_perf_event_output(ctx, &e_out, BPF_F_CURRENT_CPU, &e, sizeof(e));
  struct event *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (r) { *r = e; bpf_ringbuf_submit(r, 0); }
  lbc_debug("exec %d", k.pid);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
