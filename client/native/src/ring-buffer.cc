#include "ring-buffer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "addon-data.h"
#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

// Returned by the sample callback to make ring_buffer__consume stop once a batch is full; the
// record it was called with has already been copied and counts as consumed.
static constexpr int kBatchFull = -EAGAIN;

Napi::Function RingBuffer::Define(Napi::Env env) {
  return DefineClass(env, "NativeRingBuffer", {InstanceMethod<&RingBuffer::Close>("close")});
}

RingBuffer::RingBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingBuffer>(info), BatchPoller(info.Env(), "lbc:ringbuf") {}

RingBuffer::~RingBuffer() { Release(); }

Napi::Value RingBuffer::OpenWith(const Napi::CallbackInfo& info, bool lend) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, lend ? "openRingBufferArena(mapFd, onBatch)" : "openRingBuffer(mapFd, onBatch)");
  }
  int mapFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object handle = GetAddonData(env).ringBufferConstructor.New({});
  RingBuffer* self = Unwrap(handle);
  self->onBatch_ = Napi::Persistent(info[1].As<Napi::Function>());
  self->lend_ = lend;
  LibbpfLogCapture capture;
  self->ring_ = ring_buffer__new(mapFd, OnSample, self, nullptr);
  if (self->ring_ == nullptr) {
    int err = errno;
    throw ErrnoError(env, err, "ring_buffer__new(map fd " + std::to_string(mapFd) + ")", capture.text());
  }
  self->Watch(ring_buffer__epoll_fd(self->ring_));
  // While watched, the handle must outlive any JS reference to it.
  self->Ref();
  return handle;
}

int RingBuffer::OnSample(void* ctx, void* data, size_t size) {
  auto* self = static_cast<RingBuffer*>(ctx);
  self->batch_.Add(data, size, 0);
  return self->batch_.Full() ? kBatchFull : 0;
}

void RingBuffer::OnReadable() {
  batch_.Clear();
  int result = ring_buffer__consume(ring_);
  if (!batch_.Empty()) {
    std::vector<napi_value> args = lend_ ? batch_.LendToJs(env_) : batch_.CopyToJs(env_);
    // Cleared before JS runs: a close() from the callback may free this object at the next GC.
    batch_.Clear();
    CallJs(onBatch_, args);
  }
  // A full batch leaves records behind: the fd stays readable and the loop calls again after
  // timers and I/O had their turn.
  if (result < 0 && result != kBatchFull && watching_) {
    std::fprintf(stderr, "lbc: ring_buffer__consume failed: %s\n", std::strerror(-result));
  }
}

void RingBuffer::Release() {
  Unwatch();
  if (ring_ != nullptr) {
    ring_buffer__free(ring_);
    ring_ = nullptr;
  }
}

Napi::Value RingBuffer::Close(const Napi::CallbackInfo& info) {
  if (ring_ != nullptr) {
    Release();
    onBatch_.Reset();
    Unref();
  }
  return info.Env().Undefined();
}

}  // namespace lbc
