// What every lab probe on do_sys_openat2 reports: who opened, what, and (return probes) the result.
#pragma once

struct open_event {
  u32 pid;
  /* Read with CO-RE (task->real_parent->tgid): the same object's relocations on every kernel. */
  u32 ppid;
  s32 ret;
  /* 1 kprobe, 2 kretprobe, 3 fentry, 4 fexit: which program of a twin pair fired. */
  u32 kind;
  char comm[16];
  char path[64];
};

static __always_inline struct open_event *open_event_start(void *ring, u32 kind) {
  struct open_event *e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  e->ppid = BPF_CORE_READ(task, real_parent, tgid);
  e->ret = 0;
  e->kind = kind;
  e->path[0] = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  return e;
}
