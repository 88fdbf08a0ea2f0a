// Watches a libbpf buffer's epoll fd on the default libuv loop and, when it is readable, lets the
// owner drain it on the main thread and hand JS one batch. libbpf callbacks only copy bytes into
// a RecordBatch; JS runs after libbpf has returned, so nothing thrown in JS crosses C frames.
#pragma once
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace lbc {

struct RecordBatch {
  // A batch is capped so one drain cannot hold the event loop while producers keep writing.
  static constexpr size_t kMaxRecords = 16384;
  static constexpr size_t kMaxBytes = 8u << 20;

  std::vector<uint8_t> bytes;
  std::vector<uint32_t> ends;
  std::vector<uint32_t> cpus;

  void Add(const void* data, size_t size, uint32_t cpu, bool withCpu);
  bool Full() const { return ends.size() >= kMaxRecords || bytes.size() >= kMaxBytes; }
  bool Empty() const { return ends.empty(); }
  void Clear();
  /** [arena Buffer, ends Uint32Array, cpus Uint32Array?] */
  std::vector<napi_value> ToJs(Napi::Env env, bool withCpu) const;
};

class BatchPoller {
 public:
  virtual ~BatchPoller();

 protected:
  explicit BatchPoller(Napi::Env env, const char* resourceName);
  /** Starts watching; throws a JS error on failure. */
  void Watch(int epollFd);
  /** Stops watching and releases the uv handle (freed in its close callback); idempotent. */
  void Unwatch();
  /** Calls fn with args inside the buffer's async context; a throw becomes an uncaught exception. */
  void CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args);
  virtual void OnReadable() = 0;

  Napi::Env env_;
  bool watching_ = false;

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events);
  uv_poll_t* handle_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> context_;
};

}  // namespace lbc
