// One probe written twice, as libbpf-tools does: fentry where the kernel has BPF trampolines, the
// kprobe twin elsewhere. lbc turns off the side this kernel cannot run; `kind` says which fired.
#include "lbc.h"
#include "open_event.h"

LBC_RINGBUF(events, struct open_event, 1 << 16);

SEC("fentry/do_sys_openat2")
int BPF_PROG(lab_open_fentry, int dfd, const char *filename) {
  struct open_event *e = open_event_start(&events, 3);
  if (!e) return 0;
  bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(lab_open_kprobe, int dfd, const char *filename) {
  struct open_event *e = open_event_start(&events, 1);
  if (!e) return 0;
  bpf_probe_read_user_str(e->path, sizeof(e->path), filename);
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
