// openRingBufferView(mapFd, onBatch(view, starts, ends, count)): a BPF_MAP_TYPE_RINGBUF read in
// place, the way cilium/ebpf reads it rather than through libbpf. The addon maps the ring itself
// (consumer page read-write; producer page and data area read-only, the data mapped twice back to
// back so a record that wraps the end is contiguous) and hands JS one ArrayBuffer over the data
// (`view`, made once, read-only memory: writing to it crashes the process) plus the record bounds
// (uint32 arrays, reused). Records are released to the kernel only after the callback returns, so
// the views stay valid during it and no longer.
#pragma once
#include <napi.h>

#include <cstdint>

#include "batch-poller.h"

namespace lbc {

class RingView : public Napi::ObjectWrap<RingView>, public BatchPoller {
 public:
  // Records per batch, so one drain cannot hold the event loop while producers keep writing (64k
  // records of a few tens of ns each: a few ms). Against 16k, a full ring drains in a quarter of the
  // loop turns: in-place capacity 0.54/0.55/0.61x of C vs 0.49/0.48/0.66x (bench/ringbuf-throughput.ts).
  static constexpr uint32_t kMaxRecords = 65536;

  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit RingView(const Napi::CallbackInfo& info);
  ~RingView() override;

 private:
  void Map(int mapFd);
  void OnReadable() override;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  int epollFd_ = -1;
  void* consumerPage_ = nullptr;
  size_t pageSize_ = 0;
  // Owned by the view ArrayBuffer (unmapped when it is collected): JS may hold it past close().
  uint8_t* producerPage_ = nullptr;
  uint64_t mask_ = 0;
  Napi::Reference<Napi::ArrayBuffer> view_, starts_, ends_;
  uint32_t* startsData_ = nullptr;
  uint32_t* endsData_ = nullptr;
  Napi::FunctionReference onBatch_;
  bool inCallback_ = false;
  bool closeRequested_ = false;
};

}  // namespace lbc
