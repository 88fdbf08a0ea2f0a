// A kretprobe on do_sys_openat2: the fd or -errno it returned.
#include "lbc.h"
#include "open_event.h"

LBC_RINGBUF(events, struct open_event, 1 << 16);

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(lab_kretprobe, long ret) {
  struct open_event *e = open_event_start(&events, 2);
  if (!e) return 0;
  e->ret = ret;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
