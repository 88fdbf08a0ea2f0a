// A JS handle on one libbpf bpf_object: open from memory, load, list, attach, close.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <functional>
#include <string>
#include <vector>

namespace lbc {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** openObject(elf, name, { btfCustomPath }) */
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit BpfObject(const Napi::CallbackInfo& info);

 private:
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value Maps(const Napi::CallbackInfo& info);
  Napi::Value Btf(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value AttachKprobe(const Napi::CallbackInfo& info);
  Napi::Value AttachUprobe(const Napi::CallbackInfo& info);
  Napi::Value AttachTracepoint(const Napi::CallbackInfo& info);
  Napi::Value AttachRawTracepoint(const Napi::CallbackInfo& info);
  Napi::Value AttachPerfEvent(const Napi::CallbackInfo& info);
  Napi::Value AttachXdp(const Napi::CallbackInfo& info);
  Napi::Value AttachCgroup(const Napi::CallbackInfo& info);
  Napi::Value AttachNetns(const Napi::CallbackInfo& info);
  Napi::Value AttachTrace(const Napi::CallbackInfo& info);
  // Attach kinds with parameters (program-attach.cc).
  Napi::Value AttachIter(const Napi::CallbackInfo& info);
  Napi::Value AttachUsdt(const Napi::CallbackInfo& info);
  Napi::Value AttachKprobeMulti(const Napi::CallbackInfo& info);
  Napi::Value AttachUprobeMulti(const Napi::CallbackInfo& info);
  Napi::Value AttachTcx(const Napi::CallbackInfo& info);
  Napi::Value AttachTcHook(const Napi::CallbackInfo& info);
  Napi::Value AttachStructOps(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // Set-up between open and load (object-setup.cc).
  Napi::Value SetAutoload(const Napi::CallbackInfo& info);
  Napi::Value SetAttachTarget(const Napi::CallbackInfo& info);
  Napi::Value SetMapMaxEntries(const Napi::CallbackInfo& info);
  Napi::Value SetMapValueSize(const Napi::CallbackInfo& info);
  Napi::Value SetMapPinPath(const Napi::CallbackInfo& info);
  Napi::Value ReuseMapFd(const Napi::CallbackInfo& info);
  Napi::Value SetMapAutocreate(const Napi::CallbackInfo& info);
  Napi::Value SetMapType(const Napi::CallbackInfo& info);
  Napi::Value SetMapKeySize(const Napi::CallbackInfo& info);
  Napi::Value MapInitialValue(const Napi::CallbackInfo& info);
  Napi::Value SetMapInitialValue(const Napi::CallbackInfo& info);

  bpf_object* Require(Napi::Env env);
  bpf_program* FindProgram(Napi::Env env, const Napi::Value& name);
  /** By C name, or by ELF section name (".bss", ".data.foo") for the maps libbpf makes for globals. */
  bpf_map* FindMap(Napi::Env env, const Napi::Value& name);
  Napi::Value AttachWith(Napi::Env env, const std::string& what, const std::function<bpf_link*()>& attach);

  bpf_object* object_ = nullptr;
  // libbpf reads the ELF image from our buffer until load: keep a copy of our own.
  std::vector<char> elf_;
};

}  // namespace lbc
