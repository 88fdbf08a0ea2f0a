#include "global-data.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "errno-error.h"

namespace lbc {

// The mapping is the ArrayBuffer's own: unmapped when it is detached (object closed) or collected.
// It holds a reference on the map, so the memory stays valid for as long as JS can reach it.
Napi::Value MapGlobalData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "mapGlobalData(mapFd, byteLength, writable)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t length = info[1].As<Napi::Number>().Int64Value();
  bool writable = info[2].ToBoolean();
  if (length <= 0) throw Napi::RangeError::New(env, "mapGlobalData: byteLength must be positive");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t mapped = (static_cast<size_t>(length) + page - 1) / page * page;
  void* data = mmap(nullptr, mapped, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) throw ErrnoError(env, errno, "mmap global data (map fd " + std::to_string(fd) + ")");
  return Napi::ArrayBuffer::New(env, data, static_cast<size_t>(length), [mapped](Napi::Env, void* at) { munmap(at, mapped); });
}

Napi::Value UnmapGlobalData(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) throw Napi::TypeError::New(info.Env(), "unmapGlobalData(buffer: ArrayBuffer)");
  Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
  if (!buffer.IsDetached()) buffer.Detach();
  return info.Env().Undefined();
}

}  // namespace lbc
