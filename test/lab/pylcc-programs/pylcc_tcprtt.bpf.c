// pylcc's tcprtt shape: a kprobe on tcp_rcv_established reads the socket's smoothed RTT through
// _() into a log2 histogram, and reports each sample with the ports and the task it ran in.
#include "lbc.h"

struct rtt_event {
  u32 pid;
  u32 srtt_us;
  u16 sport;
  u16 dport;
  char comm[16];
};

LBC_PERF_OUTPUT(e_out, struct rtt_event, 128);
LBC_HIST2(rtt_hist);

SEC("kprobe/tcp_rcv_established")
int j_tcp_rcv_established(struct pt_regs *ctx)
{
  struct sock *sk = (struct sock *)PT_REGS_PARM1(ctx);
  struct tcp_sock *ts = (struct tcp_sock *)sk;
  struct rtt_event e = {};
  u32 srtt = _(ts->srtt_us) >> 3;

  hist2_push(&rtt_hist, srtt);
  e.pid = bpf_get_current_pid_tgid() >> 32;
  e.srtt_us = srtt;
  e.sport = _(sk->__sk_common.skc_num);
  e.dport = ntohs(_(sk->__sk_common.skc_dport));
  bpf_get_current_comm(&e.comm, sizeof(e.comm));
  bpf_perf_event_output(ctx, &e_out, BPF_F_CURRENT_CPU, &e, sizeof(e));
  return 0;
}

char _license[] SEC("license") = "GPL";
