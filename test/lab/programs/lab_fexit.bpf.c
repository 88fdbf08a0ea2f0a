// fexit on do_sys_openat2: the arguments and the return value in one program.
#include "lbc.h"
#include "open_event.h"

LBC_RINGBUF(events, struct open_event, 1 << 16);

SEC("fexit/do_sys_openat2")
int BPF_PROG(lab_fexit, int dfd, const char *filename, struct open_how *how, long ret) {
  struct open_event *e = open_event_start(&events, 4);
  if (!e) return 0;
  bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
  e->ret = ret;
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
