#include "packet-socket.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "addon-data.h"
#include "errno-error.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

namespace lbc {

Napi::Function PacketSocket::Define(Napi::Env env) {
  return DefineClass(env, "NativePacketSocket", {InstanceMethod<&PacketSocket::Close>("close")});
}

PacketSocket::PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info), BatchPoller(info.Env(), "lbc:packets") {}

PacketSocket::~PacketSocket() { Release(); }

Napi::Value PacketSocket::Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction()) {
    throw Napi::TypeError::New(env, "openPacketSocket(ifindex, progFd, onBatch)");
  }
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  int progFd = info[1].As<Napi::Number>().Int32Value();
  // Protocol 0 receives nothing until bind: no packet gets past before the filter is on.
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ErrnoError(env, errno, "socket(AF_PACKET, SOCK_RAW)");
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof progFd) != 0) {
    int err = errno;
    close(fd);
    throw ErrnoError(env, err, "setsockopt(SO_ATTACH_BPF, prog fd " + std::to_string(progFd) + ")");
  }
  sockaddr_ll address;
  std::memset(&address, 0, sizeof address);
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    int err = errno;
    close(fd);
    throw ErrnoError(env, err, "bind(AF_PACKET, ifindex " + std::to_string(ifindex) + ")");
  }
  Napi::Object handle = GetAddonData(env).packetSocketConstructor.New({});
  PacketSocket* self = Unwrap(handle);
  self->fd_ = fd;
  self->onBatch_ = Napi::Persistent(info[2].As<Napi::Function>());
  self->Watch(fd);
  self->Ref();
  return handle;
}

void PacketSocket::OnReadable() {
  batch_.Clear();
  static thread_local char packet[65536];
  while (!batch_.Full()) {
    ssize_t n = recv(fd_, packet, sizeof packet, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) std::fprintf(stderr, "lbc: packet socket recv failed: %s\n", std::strerror(errno));
      break;
    }
    batch_.Add(packet, static_cast<size_t>(n) < sizeof packet ? static_cast<size_t>(n) : sizeof packet, 0);
  }
  if (!batch_.Empty()) {
    std::vector<napi_value> args = batch_.CopyToJs(env_);
    batch_.Clear();
    CallJs(onBatch_, args);
  }
}

void PacketSocket::Release() {
  Unwatch();
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

Napi::Value PacketSocket::Close(const Napi::CallbackInfo& info) {
  if (fd_ >= 0) {
    Release();
    onBatch_.Reset();
    Unref();
  }
  return info.Env().Undefined();
}

}  // namespace lbc
