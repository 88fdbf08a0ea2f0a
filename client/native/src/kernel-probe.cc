#include "kernel-probe.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <string>

#include "errno-error.h"
#include "libbpf-log.h"
#include "trampoline-probe.h"

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

// The probe itself is trampoline-probe.cc, shared with the kernel lab's guest runner.
Napi::Value ProbeTrampoline(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "probeTrampoline(func: string, kind?: 'fentry' | 'fexit')");
  std::string func = info[0].As<Napi::String>();
  bool fexit = info[1].IsString() && std::string(info[1].As<Napi::String>()) == "fexit";
  LibbpfLogCapture quiet;
  TrampolineAnswer answer = ProbeTrampolineAttach(func, fexit);
  Napi::Object result = Napi::Object::New(env);
  result.Set("ok", answer.ok);
  result.Set("errno", answer.err);
  if (!answer.ok) result.Set("reason", answer.reason);
  return result;
}

}  // namespace lbc
