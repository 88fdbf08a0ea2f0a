// pylcc's execsnoop shape: a kprobe on the execve syscall stamps the start, its kretprobe reports
// the new program (comm after exec), its parent, the return value and how long exec took.
#include "lbc.h"

struct exec_event {
  u32 pid;
  u32 ppid;
  s32 ret;
  u32 pad;
  u64 delta_ns;
  char comm[16];
};

LBC_PERF_OUTPUT(e_out, struct exec_event, 128);
LBC_HASH(start, u32, u64, 1024);

// Syscall functions are named per architecture (__x64_sys_execve, __arm64_sys_execve): the tool
// attaches these by hand to the name this kernel has.
SEC("kprobe/sys_execve")
int j_execve_entry(struct pt_regs *ctx)
{
  u32 pid = bpf_get_current_pid_tgid();
  u64 ts = bpf_ktime_get_ns();
  bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
  return 0;
}

SEC("kretprobe/sys_execve")
int j_execve_return(struct pt_regs *ctx)
{
  u32 pid = bpf_get_current_pid_tgid();
  u64 *tsp = bpf_map_lookup_elem(&start, &pid);
  struct exec_event e = {};
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();

  if (!tsp) return 0;
  e.delta_ns = bpf_ktime_get_ns() - *tsp;
  bpf_map_delete_elem(&start, &pid);
  e.pid = bpf_get_current_pid_tgid() >> 32;
  struct task_struct *parent = _(task->real_parent);
  e.ppid = _(parent->tgid);
  e.ret = PT_REGS_RC(ctx);
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  bpf_perf_event_output(ctx, &e_out, BPF_F_CURRENT_CPU, &e, sizeof(e));
  return 0;
}

char _license[] SEC("license") = "GPL";
