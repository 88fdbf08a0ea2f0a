#include "batch-poller.h"

#include <cstring>

#include "errno-error.h"

namespace lbc {

void RecordBatch::Add(const void* data, size_t size, uint32_t cpu, bool withCpu) {
  size_t start = bytes.size();
  bytes.resize(start + size);
  std::memcpy(bytes.data() + start, data, size);
  ends.push_back(static_cast<uint32_t>(bytes.size()));
  if (withCpu) cpus.push_back(cpu);
}

void RecordBatch::Clear() {
  bytes.clear();
  ends.clear();
  cpus.clear();
}

static Napi::Uint32Array ToUint32Array(Napi::Env env, const std::vector<uint32_t>& values) {
  Napi::ArrayBuffer storage = Napi::ArrayBuffer::New(env, values.size() * sizeof(uint32_t));
  if (!values.empty()) std::memcpy(storage.Data(), values.data(), values.size() * sizeof(uint32_t));
  return Napi::Uint32Array::New(env, values.size(), storage, 0);
}

std::vector<napi_value> RecordBatch::ToJs(Napi::Env env, bool withCpu) const {
  std::vector<napi_value> args;
  args.push_back(Napi::Buffer<uint8_t>::Copy(env, bytes.data(), bytes.size()));
  args.push_back(ToUint32Array(env, ends));
  if (withCpu) args.push_back(ToUint32Array(env, cpus));
  return args;
}

BatchPoller::BatchPoller(Napi::Env env, const char* resourceName)
    : env_(env), context_(std::make_unique<Napi::AsyncContext>(env, resourceName)) {}

BatchPoller::~BatchPoller() { Unwatch(); }

void BatchPoller::Watch(int epollFd) {
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
}

void BatchPoller::Unwatch() {
  watching_ = false;
  if (handle_ == nullptr) return;
  uv_poll_stop(handle_);
  handle_->data = nullptr;
  // libuv may still reference the handle until the close callback: free it there.
  uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  handle_ = nullptr;
}

void BatchPoller::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<BatchPoller*>(handle->data);
  if (self == nullptr || !self->watching_) return;
  Napi::HandleScope scope(self->env_);
  self->OnReadable();
}

void BatchPoller::CallJs(const Napi::FunctionReference& fn, const std::vector<napi_value>& args) {
  try {
    fn.MakeCallback(env_.Global(), args, *context_);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env_, error.Value());
  }
}

}  // namespace lbc
