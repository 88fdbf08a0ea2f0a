// A JS handle on one libbpf bpf_link. The link is not destroyed when the handle is garbage
// collected: a program silently detaching because a variable went out of scope is worse than a
// link living until destroy() or process exit (the kernel detaches when the fd closes).
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

namespace lbc {

class BpfLink : public Napi::ObjectWrap<BpfLink> {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Object Wrap(Napi::Env env, bpf_link* link);
  explicit BpfLink(const Napi::CallbackInfo& info);

 private:
  Napi::Value Destroy(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  bpf_link* link_ = nullptr;
};

}  // namespace lbc
