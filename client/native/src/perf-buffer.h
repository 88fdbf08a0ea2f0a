// openPerfBuffer(mapFd, pageCount, onBatch(arena, ends, cpus), onLost(cpu, count)):
// a BPF_MAP_TYPE_PERF_EVENT_ARRAY drained in batches, each in fresh memory.
// openPerfBufferArena(mapFd, pageCount, onBatch(arena, ends, cpus, count), onLost): the same
// batches in storage reused from batch to batch (see RecordBatch::LendToJs).
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <utility>
#include <vector>

#include "batch-poller.h"

namespace lbc {

class PerfBuffer : public Napi::ObjectWrap<PerfBuffer>, public BatchPoller {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info) { return OpenWith(info, false); }
  static Napi::Value OpenArena(const Napi::CallbackInfo& info) { return OpenWith(info, true); }
  explicit PerfBuffer(const Napi::CallbackInfo& info);
  ~PerfBuffer() override;

 private:
  static Napi::Value OpenWith(const Napi::CallbackInfo& info, bool lend);
  static void OnSample(void* ctx, int cpu, void* data, __u32 size);
  static void OnLost(void* ctx, int cpu, __u64 count);
  void OnReadable() override;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  perf_buffer* perf_ = nullptr;
  Napi::FunctionReference onBatch_;
  Napi::FunctionReference onLost_;
  static constexpr uint64_t kDrainEveryMs = 100;
  RecordBatch batch_{true};
  bool lend_ = false;
  std::vector<std::pair<int, uint64_t>> lost_;
};

}  // namespace lbc
