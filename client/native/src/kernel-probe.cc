#include "kernel-probe.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

static int Type(const Napi::CallbackInfo& info, const char* call) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(call) + "(type: number)");
  return info[0].As<Napi::Number>().Int32Value();
}

Napi::Value ProbeMapType(const Napi::CallbackInfo& info) {
  LibbpfLogCapture quiet;
  int ret = libbpf_probe_bpf_map_type(static_cast<bpf_map_type>(Type(info, "probeMapType")), nullptr);
  if (ret < 0) throw ErrnoError(info.Env(), -ret, "libbpf_probe_bpf_map_type", quiet.text());
  return Napi::Boolean::New(info.Env(), ret > 0);
}

Napi::Value ProbeProgType(const Napi::CallbackInfo& info) {
  LibbpfLogCapture quiet;
  int ret = libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(Type(info, "probeProgType")), nullptr);
  if (ret < 0) throw ErrnoError(info.Env(), -ret, "libbpf_probe_bpf_prog_type", quiet.text());
  return Napi::Boolean::New(info.Env(), ret > 0);
}

// libbpf_probe_bpf_prog_type(TRACING) only asks whether the type exists; a kernel without BPF
// trampolines knows the type and still refuses every fentry program at load. So load one, and
// attach it: some kernels load it and refuse the trampoline only at attach (-ENOTSUPP), e.g. x86
// before 6.5 for functions of more than 6 arguments, arm64 6.1 for every function.
Napi::Value ProbeTrampoline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "probeTrampoline(func: string, kind?: 'fentry' | 'fexit')");
  std::string func = info[0].As<Napi::String>();
  bool fexit = info[1].IsString() && std::string(info[1].As<Napi::String>()) == "fexit";
  Napi::Object result = Napi::Object::New(env);

  LibbpfLogCapture quiet;
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) {
    result.Set("ok", false);
    result.Set("errno", errno);
    result.Set("reason", "no kernel BTF");
    return result;
  }
  int id = btf__find_by_name_kind(vmlinux, func.c_str(), BTF_KIND_FUNC);
  btf__free(vmlinux);
  if (id < 0) {
    result.Set("ok", false);
    result.Set("errno", -id);
    result.Set("reason", "no kernel function '" + func + "' in BTF");
    return result;
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
    result.Set("ok", false);
    result.Set("errno", errno);
    result.Set("reason", "loading a " + kind + " program on " + func + " failed");
    return result;
  }
  // The name-less raw tracepoint open attaches a tracing program to its BTF target (kernel 5.5+).
  int link = bpf_raw_tracepoint_open(nullptr, fd);
  int err = link < 0 ? errno : 0;
  if (link >= 0) close(link);
  close(fd);
  result.Set("ok", link >= 0);
  result.Set("errno", err);
  if (link < 0) result.Set("reason", "attaching a " + kind + " program on " + func + " failed");
  return result;
}

}  // namespace lbc
