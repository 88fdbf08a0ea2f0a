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

/** Every lbc.h convenience at once: all map macros, _(), byte order helpers, lbc_debug. */
export const ALL_MACROS_PROGRAM = `#include "lbc.h"
struct ev { u64 v; };
LBC_LRU_HASH(lru, u32, u64, 8);
LBC_PERCPU_HASH(pch, u32, u64, 8);
LBC_LRU_PERCPU_HASH(lpch, u32, u64, 8);
LBC_ARRAY(arr, struct ev, 4);
LBC_PERCPU_ARRAY(parr, u64, 4);

SEC("raw_tp/sched_process_exec")
int all_macros(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  struct task_struct *parent = _(t->real_parent);
  u32 ppid = _(parent->tgid);
  u64 big = ntohll(0x0102030405060708ULL) + ntohl(7) + ntohs(3) + htonl(1) + htons(1) + htonll(2);
  bpf_map_update_elem(&lru, &ppid, &big, BPF_ANY);
  bpf_map_update_elem(&pch, &ppid, &big, BPF_ANY);
  bpf_map_update_elem(&lpch, &ppid, &big, BPF_ANY);
  u32 zero = 0;
  struct ev *e = bpf_map_lookup_elem(&arr, &zero);
  if (e) e->v = big;
  u64 *p = bpf_map_lookup_elem(&parr, &zero);
  if (p) *p += 1;
  s8 a = -1; s16 b = -1; s32 c = -1; s64 d = -1; u8 f = 1; u16 g = 1;
  lbc_debug("lbc-debug-marker %d %d", ppid, (int)(a + b + c + d + f + g));
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;
