#include "bpf-object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <cerrno>

#include "addon-data.h"
#include "bpf-link.h"
#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

Napi::Function BpfObject::Define(Napi::Env env) {
  return DefineClass(env, "NativeObject",
                     {
                         InstanceMethod<&BpfObject::Load>("load"),
                         InstanceMethod<&BpfObject::Programs>("programs"),
                         InstanceMethod<&BpfObject::Maps>("maps"),
                         InstanceMethod<&BpfObject::Btf>("btf"),
                         InstanceMethod<&BpfObject::Attach>("attach"),
                         InstanceMethod<&BpfObject::AttachKprobe>("attachKprobe"),
                         InstanceMethod<&BpfObject::AttachUprobe>("attachUprobe"),
                         InstanceMethod<&BpfObject::AttachTracepoint>("attachTracepoint"),
                         InstanceMethod<&BpfObject::AttachRawTracepoint>("attachRawTracepoint"),
                         InstanceMethod<&BpfObject::AttachPerfEvent>("attachPerfEvent"),
                         InstanceMethod<&BpfObject::AttachXdp>("attachXdp"),
                         InstanceMethod<&BpfObject::AttachCgroup>("attachCgroup"),
                         InstanceMethod<&BpfObject::AttachNetns>("attachNetns"),
                         InstanceMethod<&BpfObject::AttachTrace>("attachTrace"),
                         InstanceMethod<&BpfObject::AttachIter>("attachIter"),
                         InstanceMethod<&BpfObject::AttachUsdt>("attachUsdt"),
                         InstanceMethod<&BpfObject::AttachKprobeMulti>("attachKprobeMulti"),
                         InstanceMethod<&BpfObject::AttachUprobeMulti>("attachUprobeMulti"),
                         InstanceMethod<&BpfObject::AttachTcx>("attachTcx"),
                         InstanceMethod<&BpfObject::AttachTcHook>("attachTcHook"),
                         InstanceMethod<&BpfObject::AttachStructOps>("attachStructOps"),
                         InstanceMethod<&BpfObject::Close>("close"),
                         InstanceMethod<&BpfObject::SetAutoload>("setAutoload"),
                         InstanceMethod<&BpfObject::SetAttachTarget>("setAttachTarget"),
                         InstanceMethod<&BpfObject::SetMapMaxEntries>("setMapMaxEntries"),
                         InstanceMethod<&BpfObject::SetMapValueSize>("setMapValueSize"),
                         InstanceMethod<&BpfObject::SetMapPinPath>("setMapPinPath"),
                         InstanceMethod<&BpfObject::ReuseMapFd>("reuseMapFd"),
                         InstanceMethod<&BpfObject::SetMapAutocreate>("setMapAutocreate"),
                         InstanceMethod<&BpfObject::SetMapType>("setMapType"),
                         InstanceMethod<&BpfObject::SetMapKeySize>("setMapKeySize"),
                         InstanceMethod<&BpfObject::MapInitialValue>("mapInitialValue"),
                         InstanceMethod<&BpfObject::SetMapInitialValue>("setMapInitialValue"),
                     });
}

BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {}

Napi::Value BpfObject::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBuffer() || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "openObject(elf: Buffer, name: string, opts?)");
  }
  auto elf = info[0].As<Napi::Buffer<char>>();
  std::string name = info[1].As<Napi::String>();
  std::string btfCustomPath;
  if (info[2].IsObject()) {
    Napi::Value path = info[2].As<Napi::Object>().Get("btfCustomPath");
    if (path.IsString()) btfCustomPath = path.As<Napi::String>();
  }

  Napi::Object handle = GetAddonData(env).objectConstructor.New({});
  BpfObject* self = Unwrap(handle);
  self->elf_.assign(elf.Data(), elf.Data() + elf.Length());

  LIBBPF_OPTS(bpf_object_open_opts, opts);
  opts.object_name = name.c_str();
  if (!btfCustomPath.empty()) opts.btf_custom_path = btfCustomPath.c_str();
  LibbpfLogCapture capture;
  bpf_object* object = bpf_object__open_mem(self->elf_.data(), self->elf_.size(), &opts);
  if (object == nullptr) {
    int err = errno;
    throw ErrnoError(env, err, "bpf_object__open_mem('" + name + "')", capture.text());
  }
  self->object_ = object;
  return handle;
}

bpf_object* BpfObject::Require(Napi::Env env) {
  if (object_ == nullptr) throw ErrnoError(env, EBADF, "the object is closed");
  return object_;
}

bpf_program* BpfObject::FindProgram(Napi::Env env, const Napi::Value& name) {
  if (!name.IsString()) throw Napi::TypeError::New(env, "program name must be a string");
  std::string progName = name.As<Napi::String>();
  bpf_program* prog = bpf_object__find_program_by_name(Require(env), progName.c_str());
  if (prog == nullptr) throw ErrnoError(env, ENOENT, "no program named '" + progName + "'");
  return prog;
}

Napi::Value BpfObject::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* object = Require(env);
  LibbpfLogCapture capture;
  int err = bpf_object__load(object);
  if (err != 0) throw ErrnoError(env, err, "bpf_object__load('" + std::string(bpf_object__name(object)) + "')", capture.text());
  elf_.clear();
  elf_.shrink_to_fit();
  return env.Undefined();
}

// The kernel's id for a program or map fd (what `bpftool` and `lbc inspect` show), 0 before load.
static uint32_t KernelId(int fd) {
  if (fd < 0) return 0;
  // bpf_prog_info and bpf_map_info both start with (type, id): read just that prefix.
  struct {
    uint32_t type;
    uint32_t id;
  } prefix{};
  uint32_t size = sizeof prefix;
  return bpf_obj_get_info_by_fd(fd, &prefix, &size) == 0 ? prefix.id : 0;
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* object = Require(env);
  Napi::Array list = Napi::Array::New(env);
  bpf_program* prog;
  uint32_t i = 0;
  bpf_object__for_each_program(prog, object) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", bpf_program__name(prog));
    entry.Set("section", bpf_program__section_name(prog));
    entry.Set("type", static_cast<double>(bpf_program__type(prog)));
    const char* typeName = libbpf_bpf_prog_type_str(bpf_program__type(prog));
    entry.Set("typeName", typeName ? typeName : "unknown");
    entry.Set("attachType", static_cast<double>(bpf_program__expected_attach_type(prog)));
    entry.Set("autoload", bpf_program__autoload(prog));
    int fd = bpf_program__fd(prog);
    entry.Set("fd", fd < 0 ? -1 : fd);
    entry.Set("id", KernelId(fd));
    list.Set(i++, entry);
  }
  return list;
}

Napi::Value BpfObject::Maps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* object = Require(env);
  Napi::Array list = Napi::Array::New(env);
  bpf_map* map;
  uint32_t i = 0;
  bpf_object__for_each_map(map, object) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", bpf_map__name(map));
    entry.Set("type", static_cast<double>(bpf_map__type(map)));
    const char* typeName = libbpf_bpf_map_type_str(bpf_map__type(map));
    entry.Set("typeName", typeName ? typeName : "unknown");
    // libbpf >= 1.3 hands every map a placeholder fd at open, kept by a map left uncreated
    // (autocreate off): only an fd the kernel knows as a map is one.
    int fd = bpf_map__fd(map);
    uint32_t id = KernelId(fd);
    entry.Set("fd", id == 0 ? -1 : fd);
    entry.Set("id", id);
    entry.Set("keySize", static_cast<double>(bpf_map__key_size(map)));
    entry.Set("valueSize", static_cast<double>(bpf_map__value_size(map)));
    entry.Set("maxEntries", static_cast<double>(bpf_map__max_entries(map)));
    entry.Set("btfKeyTypeId", static_cast<double>(bpf_map__btf_key_type_id(map)));
    entry.Set("btfValueTypeId", static_cast<double>(bpf_map__btf_value_type_id(map)));
    entry.Set("mapFlags", static_cast<double>(bpf_map__map_flags(map)));
    entry.Set("internal", bpf_map__is_internal(map));
    entry.Set("autocreate", bpf_map__autocreate(map));
    const char* pinPath = bpf_map__pin_path(map);
    if (pinPath != nullptr) entry.Set("pinPath", pinPath);
    list.Set(i++, entry);
  }
  return list;
}

Napi::Value BpfObject::Btf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const btf* objectBtf = bpf_object__btf(Require(env));
  if (objectBtf == nullptr) return env.Null();
  uint32_t size = 0;
  const void* raw = btf__raw_data(objectBtf, &size);
  if (raw == nullptr) return env.Null();
  return Napi::Buffer<char>::Copy(env, static_cast<const char*>(raw), size);
}

Napi::Value BpfObject::AttachWith(Napi::Env env, const std::string& what, const std::function<bpf_link*()>& attach) {
  LibbpfLogCapture capture;
  bpf_link* link = attach();
  if (link == nullptr) {
    int err = errno;
    throw ErrnoError(env, err, what, capture.text());
  }
  return BpfLink::Wrap(env, link);
}

static std::string Quoted(const char* text) { return std::string("'") + text + "'"; }

Napi::Value BpfObject::Attach(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  return AttachWith(info.Env(), "bpf_program__attach(" + Quoted(bpf_program__name(prog)) + ")",
                    [&] { return bpf_program__attach(prog); });
}

Napi::Value BpfObject::AttachKprobe(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  bool retprobe = info[1].ToBoolean();
  std::string func = info[2].ToString();
  return AttachWith(info.Env(), "bpf_program__attach_kprobe(" + Quoted(bpf_program__name(prog)) + ", " + Quoted(func.c_str()) + ")",
                    [&] { return bpf_program__attach_kprobe(prog, retprobe, func.c_str()); });
}

Napi::Value BpfObject::AttachUprobe(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  bool retprobe = info[1].ToBoolean();
  int pid = info[2].ToNumber().Int32Value();
  std::string binary = info[3].ToString();
  size_t offset = static_cast<size_t>(info[4].ToNumber().Int64Value());
  std::string funcName = info[5].IsString() ? std::string(info[5].As<Napi::String>()) : "";
  std::string target = binary + ":" + (funcName.empty() ? "" : funcName + "+") + std::to_string(offset);
  return AttachWith(info.Env(), "bpf_program__attach_uprobe(" + Quoted(bpf_program__name(prog)) + ", " + Quoted(target.c_str()) + ")", [&] {
    LIBBPF_OPTS(bpf_uprobe_opts, opts);
    opts.retprobe = retprobe;
    if (!funcName.empty()) opts.func_name = funcName.c_str();
    return bpf_program__attach_uprobe_opts(prog, pid, binary.c_str(), offset, &opts);
  });
}

Napi::Value BpfObject::AttachTracepoint(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  std::string category = info[1].ToString();
  std::string name = info[2].ToString();
  return AttachWith(info.Env(),
                    "bpf_program__attach_tracepoint(" + Quoted(bpf_program__name(prog)) + ", " + Quoted((category + ":" + name).c_str()) + ")",
                    [&] { return bpf_program__attach_tracepoint(prog, category.c_str(), name.c_str()); });
}

Napi::Value BpfObject::AttachRawTracepoint(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  std::string name = info[1].ToString();
  return AttachWith(info.Env(), "bpf_program__attach_raw_tracepoint(" + Quoted(bpf_program__name(prog)) + ", " + Quoted(name.c_str()) + ")",
                    [&] { return bpf_program__attach_raw_tracepoint(prog, name.c_str()); });
}

Napi::Value BpfObject::AttachPerfEvent(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  int fd = info[1].ToNumber().Int32Value();
  return AttachWith(info.Env(), "bpf_program__attach_perf_event(" + Quoted(bpf_program__name(prog)) + ", fd " + std::to_string(fd) + ")",
                    [&] { return bpf_program__attach_perf_event(prog, fd); });
}

Napi::Value BpfObject::AttachXdp(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  int ifindex = info[1].ToNumber().Int32Value();
  return AttachWith(info.Env(), "bpf_program__attach_xdp(" + Quoted(bpf_program__name(prog)) + ", ifindex " + std::to_string(ifindex) + ")",
                    [&] { return bpf_program__attach_xdp(prog, ifindex); });
}

Napi::Value BpfObject::AttachCgroup(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  int fd = info[1].ToNumber().Int32Value();
  return AttachWith(info.Env(), "bpf_program__attach_cgroup(" + Quoted(bpf_program__name(prog)) + ", fd " + std::to_string(fd) + ")",
                    [&] { return bpf_program__attach_cgroup(prog, fd); });
}

Napi::Value BpfObject::AttachNetns(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  int fd = info[1].ToNumber().Int32Value();
  return AttachWith(info.Env(), "bpf_program__attach_netns(" + Quoted(bpf_program__name(prog)) + ", fd " + std::to_string(fd) + ")",
                    [&] { return bpf_program__attach_netns(prog, fd); });
}

Napi::Value BpfObject::AttachTrace(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  return AttachWith(info.Env(), "bpf_program__attach_trace(" + Quoted(bpf_program__name(prog)) + ")",
                    [&] { return bpf_program__attach_trace(prog); });
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  if (object_ != nullptr) {
    bpf_object__close(object_);
    object_ = nullptr;
  }
  return info.Env().Undefined();
}

}  // namespace lbc
