// Set-up of an opened object before bpf_object__load: which programs load and what they attach to,
// map sizes, pinning and reuse, and the initial bytes of the maps holding global variables.
// libbpf refuses each of these once loaded (EBUSY); TypeScript says so in words before calling.
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bpf-object.h"
#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

static std::string Quoted(const std::string& text) { return "'" + text + "'"; }

bpf_map* BpfObject::FindMap(Napi::Env env, const Napi::Value& name) {
  if (!name.IsString()) throw Napi::TypeError::New(env, "map name must be a string");
  std::string mapName = name.As<Napi::String>();
  bpf_map* map = bpf_object__find_map_by_name(Require(env), mapName.c_str());
  if (map == nullptr) throw ErrnoError(env, ENOENT, "no map named " + Quoted(mapName));
  return map;
}

// libbpf setters return a negative errno.
static void Check(Napi::Env env, int ret, const std::string& what, const LibbpfLogCapture& capture) {
  if (ret < 0) throw ErrnoError(env, -ret, what, capture.text());
}

static uint32_t U32(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsNumber()) throw Napi::TypeError::New(env, std::string(what) + " must be a number");
  double n = value.As<Napi::Number>().DoubleValue();
  if (n < 0 || n > 4294967295.0 || n != static_cast<double>(static_cast<uint32_t>(n))) {
    throw Napi::RangeError::New(env, std::string(what) + " must be an integer in 0..4294967295");
  }
  return static_cast<uint32_t>(n);
}

Napi::Value BpfObject::SetAutoload(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_program__set_autoload(prog, info[1].ToBoolean()), "bpf_program__set_autoload(" + Quoted(bpf_program__name(prog)) + ")",
        capture);
  return info.Env().Undefined();
}

// Optional third argument: the fd of a loaded BPF program whose function `func` is the target
// (fentry/fexit on a BPF program, freplace); without it, a kernel function.
Napi::Value BpfObject::SetAttachTarget(const Napi::CallbackInfo& info) {
  bpf_program* prog = FindProgram(info.Env(), info[0]);
  std::string target = info[1].ToString();
  int targetFd = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_program__set_attach_target(prog, targetFd, target.c_str()),
        "bpf_program__set_attach_target(" + Quoted(bpf_program__name(prog)) + ", " + (targetFd ? "prog fd " + std::to_string(targetFd) + ", " : "") +
            Quoted(target) + ")",
        capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::SetMapMaxEntries(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  uint32_t n = U32(info.Env(), info[1], "maxEntries");
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_max_entries(map, n), "bpf_map__set_max_entries(" + Quoted(bpf_map__name(map)) + ", " + std::to_string(n) + ")",
        capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::SetMapValueSize(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  uint32_t n = U32(info.Env(), info[1], "valueSize");
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_value_size(map, n), "bpf_map__set_value_size(" + Quoted(bpf_map__name(map)) + ", " + std::to_string(n) + ")",
        capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::SetMapPinPath(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  std::string path = info[1].IsString() ? std::string(info[1].As<Napi::String>()) : "";
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_pin_path(map, path.empty() ? nullptr : path.c_str()),
        "bpf_map__set_pin_path(" + Quoted(bpf_map__name(map)) + ", " + Quoted(path) + ")", capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::ReuseMapFd(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  if (!info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "reuseMapFd(map, fd): fd must be a number");
  int fd = info[1].As<Napi::Number>().Int32Value();
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__reuse_fd(map, fd), "bpf_map__reuse_fd(" + Quoted(bpf_map__name(map)) + ", fd " + std::to_string(fd) + ")", capture);
  return info.Env().Undefined();
}

// libbpf-tools' bpf_buffer (compat.c) turns its ring buffer into a perf event array this way.
Napi::Value BpfObject::SetMapType(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  uint32_t type = U32(info.Env(), info[1], "type");
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_type(map, static_cast<bpf_map_type>(type)), "bpf_map__set_type(" + Quoted(bpf_map__name(map)) + ", " + std::to_string(type) + ")",
        capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::SetMapKeySize(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  uint32_t n = U32(info.Env(), info[1], "keySize");
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_key_size(map, n), "bpf_map__set_key_size(" + Quoted(bpf_map__name(map)) + ", " + std::to_string(n) + ")", capture);
  return info.Env().Undefined();
}

Napi::Value BpfObject::SetMapAutocreate(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_autocreate(map, info[1].ToBoolean()), "bpf_map__set_autocreate(" + Quoted(bpf_map__name(map)) + ")", capture);
  return info.Env().Undefined();
}

// A copy: libbpf owns the bytes and, with libbpf 1.1 and no skeleton, they stop being the map's
// contents at load (global-data.cc maps the loaded map itself).
Napi::Value BpfObject::MapInitialValue(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  size_t size = 0;
  const void* data = bpf_map__initial_value(map, &size);
  if (data == nullptr) return info.Env().Null();
  return Napi::Buffer<char>::Copy(info.Env(), static_cast<const char*>(data), size);
}

Napi::Value BpfObject::SetMapInitialValue(const Napi::CallbackInfo& info) {
  bpf_map* map = FindMap(info.Env(), info[0]);
  if (!info[1].IsBuffer()) throw Napi::TypeError::New(info.Env(), "setMapInitialValue(map, bytes: Buffer)");
  auto bytes = info[1].As<Napi::Buffer<char>>();
  LibbpfLogCapture capture;
  Check(info.Env(), bpf_map__set_initial_value(map, bytes.Data(), bytes.Length()),
        "bpf_map__set_initial_value(" + Quoted(bpf_map__name(map)) + ", " + std::to_string(bytes.Length()) + " bytes)", capture);
  return info.Env().Undefined();
}

}  // namespace lbc
