#include "perf-buffer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "addon-data.h"
#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

Napi::Function PerfBuffer::Define(Napi::Env env) {
  return DefineClass(env, "NativePerfBuffer", {InstanceMethod<&PerfBuffer::Close>("close")});
}

PerfBuffer::PerfBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PerfBuffer>(info), BatchPoller(info.Env(), "lbc:perfbuf") {}

PerfBuffer::~PerfBuffer() { Release(); }

Napi::Value PerfBuffer::OpenWith(const Napi::CallbackInfo& info, bool lend) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction() || !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, lend ? "openPerfBufferArena(mapFd, pageCount, onBatch, onLost)" : "openPerfBuffer(mapFd, pageCount, onBatch, onLost)");
  }
  int mapFd = info[0].As<Napi::Number>().Int32Value();
  size_t pageCount = info[1].As<Napi::Number>().Uint32Value();
  Napi::Object handle = GetAddonData(env).perfBufferConstructor.New({});
  PerfBuffer* self = Unwrap(handle);
  self->onBatch_ = Napi::Persistent(info[2].As<Napi::Function>());
  self->onLost_ = Napi::Persistent(info[3].As<Napi::Function>());
  self->lend_ = lend;
  LibbpfLogCapture capture;
  self->perf_ = perf_buffer__new(mapFd, pageCount, OnSample, OnLost, self, nullptr);
  if (self->perf_ == nullptr) {
    int err = errno;
    throw ErrnoError(env, err, "perf_buffer__new(map fd " + std::to_string(mapFd) + ", " + std::to_string(pageCount) + " pages)",
                     capture.text());
  }
  // Drained on a timer too: on some kernels (seen on 6.18 in a Firecracker VM) a sample lands in
  // the per-CPU ring but the epoll fd is never signalled, so a lone event would wait forever.
  self->Watch(perf_buffer__epoll_fd(self->perf_), kDrainEveryMs);
  self->Ref();
  return handle;
}

void PerfBuffer::OnSample(void* ctx, int cpu, void* data, __u32 size) {
  static_cast<PerfBuffer*>(ctx)->batch_.Add(data, size, static_cast<uint32_t>(cpu));
}

void PerfBuffer::OnLost(void* ctx, int cpu, __u64 count) { static_cast<PerfBuffer*>(ctx)->lost_.emplace_back(cpu, count); }

void PerfBuffer::OnReadable() {
  batch_.Clear();
  lost_.clear();
  // Each per-CPU ring is read up to the head seen when reading starts, so this is bounded.
  int result = perf_buffer__consume(perf_);
  std::vector<std::pair<int, uint64_t>> lost;
  lost.swap(lost_);
  if (!batch_.Empty()) {
    std::vector<napi_value> args = lend_ ? batch_.LendToJs(env_) : batch_.CopyToJs(env_);
    // Cleared before JS runs: a close() from the callback may free this object at the next GC.
    batch_.Clear();
    CallJs(onBatch_, args);
  }
  for (const auto& [cpu, count] : lost) {
    if (!watching_) break;
    CallJs(onLost_, {Napi::Number::New(env_, cpu), Napi::Number::New(env_, static_cast<double>(count))});
  }
  if (result < 0 && watching_) std::fprintf(stderr, "lbc: perf_buffer__consume failed: %s\n", std::strerror(-result));
}

void PerfBuffer::Release() {
  Unwatch();
  if (perf_ != nullptr) {
    perf_buffer__free(perf_);
    perf_ = nullptr;
  }
}

Napi::Value PerfBuffer::Close(const Napi::CallbackInfo& info) {
  if (perf_ != nullptr) {
    Release();
    onBatch_.Reset();
    onLost_.Reset();
    Unref();
  }
  return info.Env().Undefined();
}

}  // namespace lbc
