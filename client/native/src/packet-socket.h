// openPacketSocket(ifindex, progFd, onBatch(arena, ends)): a raw AF_PACKET socket on one interface
// with a socket filter program attached, read on the libuv loop; every packet the filter keeps
// arrives in JS (Ethernet header first), in batches.
#pragma once
#include <napi.h>

#include "batch-poller.h"

namespace lbc {

class PacketSocket : public Napi::ObjectWrap<PacketSocket>, public BatchPoller {
 public:
  static Napi::Function Define(Napi::Env env);
  static Napi::Value Open(const Napi::CallbackInfo& info);
  explicit PacketSocket(const Napi::CallbackInfo& info);
  ~PacketSocket() override;

 private:
  void OnReadable() override;
  Napi::Value Close(const Napi::CallbackInfo& info);
  void Release();

  int fd_ = -1;
  Napi::FunctionReference onBatch_;
  RecordBatch batch_{false};
};

}  // namespace lbc
