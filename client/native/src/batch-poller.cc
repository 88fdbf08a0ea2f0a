#include "batch-poller.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "errno-error.h"

namespace lbc {

void ArenaBlock::Reserve(size_t needed, size_t used) {
  if (needed <= capacity_) return;
  size_t capacity = capacity_ == 0 ? 64 * 1024 : capacity_;
  while (capacity < needed) capacity *= 2;
  auto* data = static_cast<uint8_t*>(std::malloc(capacity));
  if (data == nullptr) throw std::bad_alloc();
  if (used > 0) std::memcpy(data, data_, used);
  Drop();
  data_ = data;
  capacity_ = capacity;
}

Napi::ArrayBuffer ArenaBlock::Lend(Napi::Env env) {
  if (lent_.IsEmpty()) {
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, data_, capacity_, [](Napi::Env, void* data) { std::free(data); });
    lent_ = Napi::Persistent(buffer);
  }
  return lent_.Value();
}

void ArenaBlock::Drop() {
  // A lent block belongs to its ArrayBuffer from then on: dropping the reference lets it be collected.
  if (lent_.IsEmpty()) {
    std::free(data_);
  } else {
    lent_.Reset();
  }
  data_ = nullptr;
  capacity_ = 0;
}

void RecordBatch::Grow(size_t recordSize) {
  bytes_.Reserve(used_ + recordSize, used_);
  if (count_ == endsCapacity_) {
    size_t records = endsCapacity_ == 0 ? 1024 : endsCapacity_ * 2;
    ends_.Reserve(records * sizeof(uint32_t), count_ * sizeof(uint32_t));
    if (withCpu_) cpus_.Reserve(records * sizeof(uint32_t), count_ * sizeof(uint32_t));
    endsCapacity_ = records;
  }
}

static Napi::Uint32Array CopyUint32(Napi::Env env, const uint32_t* values, size_t count) {
  Napi::ArrayBuffer storage = Napi::ArrayBuffer::New(env, count * sizeof(uint32_t));
  if (count > 0) std::memcpy(storage.Data(), values, count * sizeof(uint32_t));
  return Napi::Uint32Array::New(env, count, storage, 0);
}

std::vector<napi_value> RecordBatch::CopyToJs(Napi::Env env) const {
  std::vector<napi_value> args;
  args.push_back(Napi::Buffer<uint8_t>::Copy(env, bytes_.data(), used_));
  args.push_back(CopyUint32(env, Ends(), count_));
  if (withCpu_) args.push_back(CopyUint32(env, Cpus(), count_));
  return args;
}

std::vector<napi_value> RecordBatch::LendToJs(Napi::Env env) {
  std::vector<napi_value> args;
  args.push_back(bytes_.Lend(env));
  args.push_back(ends_.Lend(env));
  if (withCpu_) args.push_back(cpus_.Lend(env));
  args.push_back(Napi::Number::New(env, static_cast<double>(count_)));
  return args;
}

BatchPoller::BatchPoller(Napi::Env env, const char* resourceName)
    : env_(env), context_(std::make_unique<Napi::AsyncContext>(env, resourceName)) {}

BatchPoller::~BatchPoller() { Unwatch(); }

void BatchPoller::Watch(int epollFd, uint64_t drainEveryMs) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env_, &loop) != napi_ok) throw Napi::Error::New(env_, "no libuv loop");
  handle_ = new uv_poll_t;
  int err = uv_poll_init(loop, handle_, epollFd);
  if (err == 0) {
    handle_->data = this;
    err = uv_poll_start(handle_, UV_READABLE, OnPoll);
  }
  if (err != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    handle_ = nullptr;
    throw ErrnoError(env_, -err, std::string("uv_poll_start: ") + uv_strerror(err));
  }
  watching_ = true;
  if (drainEveryMs == 0) return;
  timer_ = new uv_timer_t;
  uv_timer_init(loop, timer_);
  timer_->data = this;
  uv_timer_start(timer_, OnTimer, drainEveryMs, drainEveryMs);
  // The poll handle already keeps the loop alive while open; the timer must not on its own.
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
}

void BatchPoller::Unwatch() {
  watching_ = false;
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    timer_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), [](uv_handle_t* h) { delete reinterpret_cast<uv_timer_t*>(h); });
    timer_ = nullptr;
  }
  if (handle_ == nullptr) return;
  uv_poll_stop(handle_);
  handle_->data = nullptr;
  // libuv may still reference the handle until the close callback: free it there.
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  handle_ = nullptr;
}

void BatchPoller::OnPoll(uv_poll_t* handle, int status, int events) {
  if (auto* self = static_cast<BatchPoller*>(handle->data)) self->Drain();
}

void BatchPoller::OnTimer(uv_timer_t* timer) {
  if (auto* self = static_cast<BatchPoller*>(timer->data)) self->Drain();
}

void BatchPoller::Drain() {
  if (!watching_) return;
  Napi::HandleScope scope(env_);
  OnReadable();
}

Napi::Value BatchPoller::CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args) {
  try {
    return fn.MakeCallback(env_.Global(), args, *context_);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env_, error.Value());
    return Napi::Value();
  }
}

}  // namespace lbc
