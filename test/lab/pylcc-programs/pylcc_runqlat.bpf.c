// pylcc's runqlat shape: wakeups stamp a start time per pid in a hash; a kprobe on
// finish_task_switch (the task now on the CPU is the woken one) pushes the wait into a log2
// histogram of microseconds, and counts waits per pid.
#include "lbc.h"

LBC_HASH(start, u32, u64, 10240);
LBC_HASH(waits, u32, u64, 10240);
LBC_HIST2(lat_hist);

static __always_inline int stamp(u32 pid)
{
  u64 ts = bpf_ktime_get_ns();
  if (pid == 0) return 0;
  bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
  return 0;
}

SEC("tp/sched/sched_wakeup")
int j_sched_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)
{
  return stamp(ctx->pid);
}

SEC("tp/sched/sched_wakeup_new")
int j_sched_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)
{
  return stamp(ctx->pid);
}

// The section names the function as written; where the compiler renamed it (finish_task_switch.isra.0)
// the tool attaches the program by hand to the name this kernel has.
SEC("kprobe/finish_task_switch")
int j_finish_task_switch(struct pt_regs *ctx)
{
  u32 pid = bpf_get_current_pid_tgid();
  u64 *tsp = bpf_map_lookup_elem(&start, &pid);
  if (!tsp) return 0;
  u64 delta_us = (bpf_ktime_get_ns() - *tsp) / 1000;
  bpf_map_delete_elem(&start, &pid);
  hist2_push(&lat_hist, delta_us);
  u64 one = 1;
  u64 *n = bpf_map_lookup_elem(&waits, &pid);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&waits, &pid, &one, BPF_NOEXIST);
  return 0;
}

char _license[] SEC("license") = "GPL";
