// A kprobe writing to a ring buffer, with a pid filter set before load (as `lbc.rodata.target_tgid = pid`).
#include "lbc.h"

struct open_event {
  u32 pid;
  char comm[16];
};

LBC_RINGBUF(events, struct open_event, 1 << 14);
LBC_HASH(opens, u32, u64, 256);

const volatile u32 target_tgid = 0;

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(on_open) {
  u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (target_tgid && tgid != target_tgid) return 0;
  u64 one = 1, *n = bpf_map_lookup_elem(&opens, &tgid);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&opens, &tgid, &one, BPF_ANY);
  struct open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = tgid;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
