// kprobe.multi: one program, one link, every function matching a pattern the tool gives at attach
// time; each hit counted under the function's address (bpf_get_func_ip), which the tool names
// through ksyms.
#include "lbc.h"

const volatile u32 target_pid = 0;

LBC_HASH(hits, u64, u64, 1024);

SEC("kprobe.multi")
int lab_multi_count(struct pt_regs *ctx)
{
  if (target_pid && (bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
  u64 ip = bpf_get_func_ip(ctx);
  u64 one = 1;
  u64 *n = bpf_map_lookup_elem(&hits, &ip);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&hits, &ip, &one, BPF_NOEXIST);
  return 0;
}

char _license[] SEC("license") = "GPL";
