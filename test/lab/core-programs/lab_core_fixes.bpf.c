// CO-RE as libbpf-tools write it: a field of newer kernels named behind bpf_core_field_exists(),
// the older kernels' name reached through a ___flavour type. Neither name exists on every kernel,
// so no single kernel's header compiles both: the farm compiles it once, against the newest header
// of the arch (task_struct.__state since 5.14, cfs_rq.nr_queued since 6.13), and libbpf fits the
// one object to each kernel at load.
#include "lbc.h"

struct core_event {
  u32 pid;
  u32 ppid;
  s32 state;
  /* Tasks queued on this task's CFS run queue (itself included while it runs). */
  u32 queued;
  /* Bit 0: task_struct has __state; bit 1: cfs_rq has nr_queued (what the kernel it loaded on has). */
  u32 fields;
  char comm[16];
};

struct task_struct___before_5_14 {
  long state;
} __attribute__((preserve_access_index));

struct cfs_rq___before_6_13 {
  unsigned int nr_running;
} __attribute__((preserve_access_index));

LBC_RINGBUF(events, struct core_event, 1 << 16);

static __always_inline s32 task_state(struct task_struct *t, u32 *fields) {
  if (bpf_core_field_exists(t->__state)) {
    *fields |= 1;
    return BPF_CORE_READ(t, __state);
  }
  return BPF_CORE_READ((struct task_struct___before_5_14 *)t, state);
}

static __always_inline u32 rq_queued(struct cfs_rq *rq, u32 *fields) {
  if (bpf_core_field_exists(rq->nr_queued)) {
    *fields |= 2;
    return BPF_CORE_READ(rq, nr_queued);
  }
  return BPF_CORE_READ((struct cfs_rq___before_6_13 *)rq, nr_running);
}

SEC("tracepoint/syscalls/sys_enter_openat")
int lab_core_fixes(void *ctx) {
  struct core_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  struct task_struct *t = (struct task_struct *)bpf_get_current_task();
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->ppid = BPF_CORE_READ(t, real_parent, tgid);
  e->fields = 0;
  e->state = task_state(t, &e->fields);
  e->queued = rq_queued(BPF_CORE_READ(t, se.cfs_rq), &e->fields);
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
