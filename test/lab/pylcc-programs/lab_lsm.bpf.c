// BPF LSM: file_open denies one file name to one process (-EPERM) and counts what it saw and denied.
#include "lbc.h"

#define EPERM 1

const volatile u32 target_pid = 0;
const volatile char deny_name[32] = "lbc-lsm-deny";

u64 opens_seen = 0;
u64 opens_denied = 0;

SEC("lsm/file_open")
int BPF_PROG(lab_file_open, struct file *file)
{
  char name[32] = {};

  if ((bpf_get_current_pid_tgid() >> 32) != target_pid) return 0;
  __sync_fetch_and_add(&opens_seen, 1);
  bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
  for (int i = 0; i < sizeof(name); i++) {
    if (name[i] != deny_name[i]) return 0;
    if (name[i] == 0) break;
  }
  __sync_fetch_and_add(&opens_denied, 1);
  return -EPERM;
}

char _license[] SEC("license") = "GPL";
