#include "ring-view.h"

#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "addon-data.h"
#include "errno-error.h"

namespace lbc {

// Record header flags (uapi linux/bpf.h), spelled out for older headers.
static constexpr uint32_t kBusyBit = 1u << 31;
static constexpr uint32_t kDiscardBit = 1u << 30;
static constexpr uint32_t kHeaderSize = 8;

Napi::Function RingView::Define(Napi::Env env) {
  return DefineClass(env, "NativeRingView", {InstanceMethod<&RingView::Close>("close")});
}

RingView::RingView(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingView>(info), BatchPoller(info.Env(), "lbc:ringbuf") {}

RingView::~RingView() { Release(); }

Napi::Value RingView::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsFunction() || !(info[2].IsUndefined() || info[2].IsObject())) {
    throw Napi::TypeError::New(env, "openRingBufferView(mapFd, onBatch, { committedOnly }?)");
  }
  int mapFd = info[0].As<Napi::Number>().Int32Value();
  Napi::Object handle = GetAddonData(env).ringViewConstructor.New({});
  RingView* self = Unwrap(handle);
  if (info[2].IsObject()) {
    Napi::Value committedOnly = info[2].As<Napi::Object>().Get("committedOnly");
    if (committedOnly.IsBoolean()) self->committedOnly_ = committedOnly.As<Napi::Boolean>().Value();
  }
  self->Map(mapFd);
  self->onBatch_ = Napi::Persistent(info[1].As<Napi::Function>());
  self->Watch(self->epollFd_);
  // While watched, the handle must outlive any JS reference to it.
  self->Ref();
  return handle;
}

// The producer page and data area of ring `mapId`, as the ArrayBuffer JS reads records from. The
// kernel maps the data twice in a row past the producer page, so a record wrapping the end of the
// area reads on contiguously. A ring opened again while its last ArrayBuffer is still alive reuses
// it: each new one would count its 2 * max_entries bytes as fresh external memory and push V8
// into a full GC, and the mapping of a large ring costs as much as draining many records.
static Napi::ArrayBuffer MapData(Napi::Env env, int mapFd, uint32_t mapId, size_t pageSize, size_t dataSize) {
  auto& cache = GetAddonData(env).ringViews;
  auto cached = cache.find(mapId);
  if (cached != cache.end()) {
    Napi::ArrayBuffer view = cached->second.Value();
    // The id cannot name another map while this mapping, which pins the map, is alive.
    if (!view.IsEmpty() && view.ByteLength() == 2 * dataSize) return view;
    cache.erase(cached);
  }
  const size_t producerSize = pageSize + 2 * dataSize;
  void* producer = mmap(nullptr, producerSize, PROT_READ, MAP_SHARED, mapFd, static_cast<off_t>(pageSize));
  if (producer == MAP_FAILED) throw ErrnoError(env, errno, "mmap producer page and data (map fd " + std::to_string(mapFd) + ")");
  Napi::ArrayBuffer view = Napi::ArrayBuffer::New(env, static_cast<uint8_t*>(producer) + pageSize, 2 * dataSize,
                                                  [producer, producerSize](Napi::Env, void*) { munmap(producer, producerSize); });
  cache.insert_or_assign(mapId, Napi::Weak(view));
  return view;
}

void RingView::Map(int mapFd) {
  const std::string what = "map fd " + std::to_string(mapFd);
  bpf_map_info info = {};
  uint32_t infoLen = sizeof info;
  if (bpf_obj_get_info_by_fd(mapFd, &info, &infoLen) != 0) throw ErrnoError(env_, errno, "bpf_obj_get_info_by_fd(" + what + ")");
  if (info.type != BPF_MAP_TYPE_RINGBUF) throw ErrnoError(env_, EINVAL, "openRingBufferView(" + what + "): not a BPF_MAP_TYPE_RINGBUF map");
  pageSize_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t dataSize = info.max_entries;
  consumerPage_ = mmap(nullptr, pageSize_, PROT_READ | PROT_WRITE, MAP_SHARED, mapFd, 0);
  if (consumerPage_ == MAP_FAILED) {
    consumerPage_ = nullptr;
    throw ErrnoError(env_, errno, "mmap consumer page (" + what + ")");
  }
  mask_ = dataSize - 1;
  Napi::ArrayBuffer view = MapData(env_, mapFd, info.id, pageSize_, dataSize);
  producerPage_ = static_cast<uint8_t*>(view.Data()) - pageSize_;
  view_ = Napi::Persistent(view);
  // The map fd itself polls readable while unread records remain; an epoll fd of our own keeps a
  // second consumer of the same fd from clashing with this one inside libuv.
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epollFd_ < 0) throw ErrnoError(env_, errno, "epoll_create1");
  epoll_event event = {};
  event.events = EPOLLIN;
  if (epoll_ctl(epollFd_, EPOLL_CTL_ADD, mapFd, &event) != 0) throw ErrnoError(env_, errno, "epoll_ctl(" + what + ")");
}

uint64_t RingView::CommittedBytes(uint64_t consumer, uint64_t limit) const {
  const uint8_t* data = producerPage_ + pageSize_;
  uint64_t walked = 0;
  while (walked < limit) {
    const auto* header = reinterpret_cast<const uint32_t*>(data + ((consumer + walked) & mask_));
    const uint32_t word = __atomic_load_n(header, __ATOMIC_ACQUIRE);
    // A reserved record not yet committed holds back every record after it.
    if (word & kBusyBit) break;
    walked += ((word & ~(kBusyBit | kDiscardBit)) + kHeaderSize + 7) & ~7ull;
  }
  return walked;
}

void RingView::OnReadable() {
  auto* consumerPos = static_cast<unsigned long*>(consumerPage_);
  const auto* producerPos = reinterpret_cast<const unsigned long*>(producerPage_);
  const uint64_t producer = __atomic_load_n(producerPos, __ATOMIC_ACQUIRE);
  const uint64_t consumer = __atomic_load_n(consumerPos, __ATOMIC_RELAXED);
  const uint64_t avail = producer - consumer;
  uint64_t limit = avail < kMaxBatchBytes ? avail : kMaxBatchBytes;
  // JS reads a header with a plain load, and only x86 keeps a record's bytes from being read
  // before its header: elsewhere the committed records are found here, with acquire loads.
  if (committedOnly_) limit = CommittedBytes(consumer, limit);
  uint64_t consumed = 0;
  if (limit > 0) {
    inCallback_ = true;
    Napi::Value walked = CallJs(onBatch_, {view_.Value(), Napi::Number::New(env_, static_cast<double>(consumer & mask_)),
                                           Napi::Number::New(env_, static_cast<double>(limit))});
    inCallback_ = false;
    const double bytes = walked.IsNumber() ? walked.As<Napi::Number>().DoubleValue() : -1;
    // The walk ends on a record boundary inside what the producer wrote. A callback that threw
    // (or a walk that went wrong) still gives back the committed records it was handed.
    if (bytes >= 0 && bytes <= static_cast<double>(avail) && static_cast<uint64_t>(bytes) % 8 == 0) {
      consumed = static_cast<uint64_t>(bytes);
    } else {
      consumed = CommittedBytes(consumer, limit);
    }
  }
  // Released only now: until here the kernel must not reuse the space JS was reading.
  if (consumed > 0) __atomic_store_n(consumerPos, consumer + consumed, __ATOMIC_RELEASE);
  if (closeRequested_) {
    closeRequested_ = false;
    Release();
    onBatch_.Reset();
    Unref();
  }
  // More than a batch left: the fd stays readable and the loop calls again after timers and I/O.
}

void RingView::Release() {
  Unwatch();
  if (epollFd_ >= 0) {
    close(epollFd_);
    epollFd_ = -1;
  }
  if (consumerPage_ != nullptr) {
    munmap(consumerPage_, pageSize_);
    consumerPage_ = nullptr;
  }
  producerPage_ = nullptr;
  view_.Reset();
}

Napi::Value RingView::Close(const Napi::CallbackInfo& info) {
  if (!watching_ && !inCallback_) return info.Env().Undefined();
  if (inCallback_) {
    // The batch in hand is still released to the kernel when the callback returns.
    Unwatch();
    closeRequested_ = true;
    return info.Env().Undefined();
  }
  Release();
  onBatch_.Reset();
  Unref();
  return info.Env().Undefined();
}

}  // namespace lbc
