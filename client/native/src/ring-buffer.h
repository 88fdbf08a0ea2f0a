// openRingBuffer(mapFd, onBatch(arena, ends)): a BPF_MAP_TYPE_RINGBUF drained in batches, each in
// fresh memory. openRingBufferArena(mapFd, onBatch(arena, ends, count)): the same batches in
// storage reused from batch to batch (see RecordBatch::LendToJs).
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include "batch-poller.h"

namespace lbc {

class RingBuffer : public Napi::ObjectWrap<RingBuffer>, public BatchPoller {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info) { return OpenWith(info, false); }
  static Napi::Value OpenArena(const Napi::CallbackInfo& info) { return OpenWith(info, true); }
  explicit RingBuffer(const Napi::CallbackInfo& info);
  ~RingBuffer() override;

 private:
  static Napi::Value OpenWith(const Napi::CallbackInfo& info, bool lend);
  static int OnSample(void* ctx, void* data, size_t size);
  void OnReadable() override;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  ring_buffer* ring_ = nullptr;
  Napi::FunctionReference onBatch_;
  RecordBatch batch_{false};
  bool lend_ = false;
};

}  // namespace lbc
