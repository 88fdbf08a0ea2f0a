#include "trampoline-probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>

namespace lbc {

// libbpf_probe_bpf_prog_type(TRACING) only asks whether the type exists; a kernel without BPF
// trampolines knows the type and still refuses every fentry program at load. So load one, and
// attach it: some kernels load it and refuse the trampoline only at attach (-ENOTSUPP), e.g. x86
// before 6.5 for functions of more than 6 arguments, arm64 6.1 for every function.
TrampolineAnswer ProbeTrampolineAttach(const std::string& func, bool fexit) {
  TrampolineAnswer answer;
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) {
    answer.err = errno;
    answer.reason = "no kernel BTF";
    return answer;
  }
  int id = btf__find_by_name_kind(vmlinux, func.c_str(), BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id < 0) {
    answer.err = -id;
    answer.reason = "no kernel function '" + func + "' in BTF";
    return answer;
  }
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts);
  opts.expected_attach_type = fexit ? BPF_TRACE_FEXIT : BPF_TRACE_FENTRY;
  opts.attach_btf_id = static_cast<uint32_t>(id);
  const std::string kind = fexit ? "fexit" : "fentry";
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "lbc_probe", "GPL", insns, sizeof insns / sizeof insns[0], &opts);
  if (fd < 0) {
    answer.err = errno;
    answer.reason = "loading a " + kind + " program on " + func + " failed";
    return answer;
  }
  // The name-less raw tracepoint open attaches a tracing program to its BTF target (kernel 5.5+).
  int link = bpf_raw_tracepoint_open(nullptr, fd);
  if (link < 0) {
    answer.err = errno;
    answer.reason = "attaching a " + kind + " program on " + func + " failed";
  } else {
    close(link);
    answer.ok = true;
  }
  close(fd);
  return answer;
}

}  // namespace lbc
