// pylcc's stack-count shape: a kprobe records the kernel stack that reached do_sys_openat2 with
// bpf_get_stackid(ctx, &stack, KERN_STACKID_FLAGS) and counts hits per (pid, comm, stack id).
#include "lbc.h"

struct stack_key {
  u32 pid;
  s32 kstack;
  char comm[16];
};

LBC_STACK(call_stack, 1024);
LBC_HASH(counts, struct stack_key, u64, 1024);

SEC("kprobe/do_sys_openat2")
int j_do_sys_openat2(struct pt_regs *ctx)
{
  struct stack_key key = {};
  u64 one = 1;

  key.pid = bpf_get_current_pid_tgid() >> 32;
  key.kstack = bpf_get_stackid(ctx, &call_stack, KERN_STACKID_FLAGS);
  bpf_get_current_comm(&key.comm, sizeof(key.comm));
  u64 *n = bpf_map_lookup_elem(&counts, &key);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
  return 0;
}

char _license[] SEC("license") = "GPL";
