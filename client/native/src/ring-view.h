// openRingBufferView(mapFd, onBatch(view, head, avail) => consumed, opts?): a BPF_MAP_TYPE_RINGBUF read
// in place, the way cilium/ebpf reads it rather than through libbpf. The addon maps the ring itself
// (consumer page read-write; producer page and data area read-only, the data mapped twice back to
// back so a record that wraps the end is contiguous) and hands JS one ArrayBuffer over the data
// (`view`, made once, read-only memory: writing to it crashes the process), the offset of the
// first unread record header (`head`) and how many bytes past it the producer has written
// (`avail`). JS walks the record headers itself (maps/record-batch.ts) and returns how many bytes
// it walked; only then does the addon release them to the kernel, so the records stay valid during
// the callback and no longer. The addon orders the producer position and the headers it hands out
// (see OnReadable); the walk is done once, in JS, where the records are read. Off x86, where a
// plain load of a header does not order the record's bytes after it, the addon first finds the
// committed records itself with acquire loads and hands JS only those; `opts.committedOnly`
// chooses that way on any CPU (the tests run it on x86).
#pragma once
#include <napi.h>

#include <cstdint>

#include "batch-poller.h"

namespace lbc {

class RingView : public Napi::ObjectWrap<RingView>, public BatchPoller {
 public:
  // Bytes per batch, so one drain cannot hold the event loop while producers keep writing (4 MiB
  // is some 58k records of 64 bytes, a few ms).
  static constexpr uint64_t kMaxBatchBytes = 4u << 20;
#if defined(__x86_64__) || defined(__i386__)
  static constexpr bool kX86 = true;
#else
  static constexpr bool kX86 = false;
#endif

  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit RingView(const Napi::CallbackInfo& info);
  ~RingView() override;

 private:
  void Map(int mapFd);
  void OnReadable() override;
  /** Bytes from `consumer` up to the first uncommitted record, walking at most past `limit`. */
  uint64_t CommittedBytes(uint64_t consumer, uint64_t limit) const;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  int epollFd_ = -1;
  void* consumerPage_ = nullptr;
  size_t pageSize_ = 0;
  // Owned by the view ArrayBuffer (unmapped when it is collected): JS may hold it past close().
  uint8_t* producerPage_ = nullptr;
  uint64_t mask_ = 0;
  Napi::Reference<Napi::ArrayBuffer> view_;
  Napi::FunctionReference onBatch_;
  bool committedOnly_ = !kX86;
  bool inCallback_ = false;
  bool closeRequested_ = false;
};

}  // namespace lbc
