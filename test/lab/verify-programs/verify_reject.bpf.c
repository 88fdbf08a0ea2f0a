// The verifier must refuse this: a map lookup's result used without the NULL check.
#include "lbc.h"

LBC_HASH(counts, u32, u64, 64);

SEC("tracepoint/syscalls/sys_enter_openat")
int unchecked_lookup(void *ctx) {
  u32 key = 0;
  u64 *value = bpf_map_lookup_elem(&counts, &key);
  *value += 1;
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
