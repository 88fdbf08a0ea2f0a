// A kprobe on a function no kernel has: it loads, and the attach fails.
#include "lbc.h"

SEC("kprobe/lbc_no_such_function")
int BPF_KPROBE(on_missing) {
  return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx) {
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
