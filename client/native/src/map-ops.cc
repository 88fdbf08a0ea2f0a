#include "map-ops.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <string>

#include "errno-error.h"

namespace lbc {

static Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (!info[index].IsBuffer()) throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a Buffer");
  return info[index].As<Napi::Buffer<uint8_t>>();
}

Napi::Value MapLookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].ToNumber().Int32Value();
  auto key = BufferArg(info, 1, "key");
  uint32_t valueSize = info[2].ToNumber().Uint32Value();
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(env, valueSize);
  if (bpf_map_lookup_elem(fd, key.Data(), value.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Null();
    throw ErrnoError(env, err, "bpf_map_lookup_elem(fd " + std::to_string(fd) + ")");
  }
  return value;
}

Napi::Value MapUpdate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].ToNumber().Int32Value();
  auto key = BufferArg(info, 1, "key");
  auto value = BufferArg(info, 2, "value");
  uint64_t flags = static_cast<uint64_t>(info[3].ToNumber().Int64Value());
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) {
    throw ErrnoError(env, errno, "bpf_map_update_elem(fd " + std::to_string(fd) + ")");
  }
  return env.Undefined();
}

Napi::Value MapDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].ToNumber().Int32Value();
  auto key = BufferArg(info, 1, "key");
  if (bpf_map_delete_elem(fd, key.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, err, "bpf_map_delete_elem(fd " + std::to_string(fd) + ")");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value MapNextKey(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].ToNumber().Int32Value();
  const void* key = nullptr;
  if (info[1].IsBuffer()) key = info[1].As<Napi::Buffer<uint8_t>>().Data();
  uint32_t keySize = info[2].ToNumber().Uint32Value();
  Napi::Buffer<uint8_t> next = Napi::Buffer<uint8_t>::New(env, keySize);
  if (bpf_map_get_next_key(fd, key, next.Data()) != 0) {
    int err = errno;
    if (err == ENOENT) return env.Null();
    throw ErrnoError(env, err, "bpf_map_get_next_key(fd " + std::to_string(fd) + ")");
  }
  return next;
}

}  // namespace lbc
