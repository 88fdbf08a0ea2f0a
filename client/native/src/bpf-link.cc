#include "bpf-link.h"

#include "addon-data.h"

namespace lbc {

Napi::Function BpfLink::Define(Napi::Env env) {
  return DefineClass(env, "NativeLink",
                     {InstanceMethod<&BpfLink::Destroy>("destroy"), InstanceMethod<&BpfLink::Fd>("fd")});
}

Napi::Object BpfLink::Wrap(Napi::Env env, bpf_link* link) {
  Napi::Object handle = GetAddonData(env).linkConstructor.New({});
  Unwrap(handle)->link_ = link;
  return handle;
}

BpfLink::BpfLink(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfLink>(info) {}

Napi::Value BpfLink::Destroy(const Napi::CallbackInfo& info) {
  if (link_ != nullptr) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  return info.Env().Undefined();
}

Napi::Value BpfLink::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), link_ == nullptr ? -1 : bpf_link__fd(link_));
}

}  // namespace lbc
