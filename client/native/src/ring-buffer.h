// openRingBuffer(mapFd, onBatch(arena, ends)): a BPF_MAP_TYPE_RINGBUF drained in batches.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include "batch-poller.h"

namespace lbc {

class RingBuffer : public Napi::ObjectWrap<RingBuffer>, public BatchPoller {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit RingBuffer(const Napi::CallbackInfo& info);
  ~RingBuffer() override;

 private:
  static int OnSample(void* ctx, void* data, size_t size);
  void OnReadable() override;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  ring_buffer* ring_ = nullptr;
  Napi::FunctionReference onBatch_;
  RecordBatch batch_;
};

}  // namespace lbc
