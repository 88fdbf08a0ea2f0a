// Watches a libbpf buffer's epoll fd on the default libuv loop and, when it is readable, lets the
// owner drain it on the main thread and hand JS one batch. libbpf callbacks only copy bytes into
// a RecordBatch; JS runs after libbpf has returned, so nothing thrown in JS crosses C frames.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace lbc {

// Raw growable storage (no zero-fill on growth: every byte handed out was written first). The
// block can be lent to JS as an external ArrayBuffer; once lent, the ArrayBuffer owns it (frees it
// when collected), so growing never frees memory a JS view may still point at.
class ArenaBlock {
 public:
  ArenaBlock() = default;
  ArenaBlock(const ArenaBlock&) = delete;
  ArenaBlock& operator=(const ArenaBlock&) = delete;
  ~ArenaBlock() { Drop(); }

  uint8_t* data() const { return data_; }
  size_t capacity() const { return capacity_; }
  /** Makes room for `needed` bytes, keeping the first `used`. */
  void Reserve(size_t needed, size_t used);
  /** The block as an ArrayBuffer, created once per block. */
  Napi::ArrayBuffer Lend(Napi::Env env);

 private:
  void Drop();
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
  Napi::Reference<Napi::ArrayBuffer> lent_;
};

class RecordBatch {
 public:
  // A batch is capped so one drain cannot hold the event loop while producers keep writing.
  static constexpr size_t kMaxRecords = 16384;
  static constexpr size_t kMaxBytes = 8u << 20;

  explicit RecordBatch(bool withCpu) : withCpu_(withCpu) {}

  void Add(const void* data, size_t size, uint32_t cpu) {
    if (used_ + size > bytes_.capacity() || count_ == endsCapacity_) Grow(size);
    std::memcpy(bytes_.data() + used_, data, size);
    used_ += size;
    Ends()[count_] = static_cast<uint32_t>(used_);
    if (withCpu_) Cpus()[count_] = cpu;
    count_++;
  }
  bool Full() const { return count_ >= kMaxRecords || used_ >= kMaxBytes; }
  bool Empty() const { return count_ == 0; }
  void Clear() { count_ = used_ = 0; }
  /** Fresh copies the callee may keep: [arena Buffer, ends Uint32Array, cpus Uint32Array?]. */
  std::vector<napi_value> CopyToJs(Napi::Env env) const;
  /**
   * The batch's own storage, reused by later batches (valid only during the callback): [arena,
   * ends, cpus?, count] as ArrayBuffers (the same ones until a batch outgrows them) longer than
   * the batch; ends and cpus hold uint32 values.
   */
  std::vector<napi_value> LendToJs(Napi::Env env);

 private:
  uint32_t* Ends() const { return reinterpret_cast<uint32_t*>(ends_.data()); }
  uint32_t* Cpus() const { return reinterpret_cast<uint32_t*>(cpus_.data()); }
  void Grow(size_t recordSize);

  bool withCpu_;
  size_t count_ = 0, used_ = 0, endsCapacity_ = 0;
  ArenaBlock bytes_, ends_, cpus_;
};

class BatchPoller {
 public:
  virtual ~BatchPoller();

 protected:
  explicit BatchPoller(Napi::Env env, const char* resourceName);
  /**
   * Starts watching; throws a JS error on failure. A nonzero drainEveryMs also drains on a timer:
   * some kernels write perf samples without ever waking the buffer's epoll fd.
   */
  void Watch(int epollFd, uint64_t drainEveryMs = 0);
  /** Stops watching and releases the uv handle (freed in its close callback); idempotent. */
  void Unwatch();
  /**
   * Calls fn with args inside the buffer's async context and returns its result; a throw becomes
   * an uncaught exception, and the result is then empty.
   */
  Napi::Value CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args);
  virtual void OnReadable() = 0;

  Napi::Env env_;
  bool watching_ = false;

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* timer);
  void Drain();
  uv_poll_t* handle_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace lbc
