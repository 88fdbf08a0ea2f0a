// A kprobe on do_sys_openat2: the path, read from user memory at entry.
#include "lbc.h"
#include "open_event.h"

LBC_RINGBUF(events, struct open_event, 1 << 16);

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(lab_kprobe, int dfd, const char *filename) {
  struct open_event *e = open_event_start(&events, 1);
  if (!e) return 0;
  bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
