// A twin on do_mmap, which takes 8 or 9 arguments: x86 BPF trampolines handle at most 6 before
// Linux 6.5, so on 5.10 and 6.1 fentry loads but cannot attach (-ENOTSUPP) and the kprobe must run.
#include "lbc.h"
#include "open_event.h"

LBC_RINGBUF(events, struct open_event, 1 << 16);

SEC("fentry/do_mmap")
int BPF_PROG(lab_mmap_fentry) {
  struct open_event *e = open_event_start(&events, 3);
  if (!e) return 0;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("kprobe/do_mmap")
int BPF_KPROBE(lab_mmap_kprobe) {
  struct open_event *e = open_event_start(&events, 1);
  if (!e) return 0;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
