#include "fd-attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "errno-error.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27
#endif

namespace lbc {

Napi::Value ReadIterator(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int linkFd = info[0].ToNumber().Int32Value();
  int fd = bpf_iter_create(linkFd);
  if (fd < 0) throw ErrnoError(env, errno, "bpf_iter_create(link fd " + std::to_string(linkFd) + ")");
  // An iterator's output is produced as it is read, one seq_file page at a time.
  std::vector<char> out;
  char chunk[16384];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      throw ErrnoError(env, err, "read(BPF iterator of link fd " + std::to_string(linkFd) + ")");
    }
    out.insert(out.end(), chunk, chunk + n);
  }
  close(fd);
  return Napi::Buffer<char>::Copy(env, out.data(), out.size());
}

Napi::Value AttachSocketFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socketFd = info[0].ToNumber().Int32Value();
  int progFd = info[1].ToNumber().Int32Value();
  if (setsockopt(socketFd, SOL_SOCKET, SO_ATTACH_BPF, &progFd, sizeof progFd) != 0) {
    throw ErrnoError(env, errno, "setsockopt(fd " + std::to_string(socketFd) + ", SO_ATTACH_BPF, prog fd " + std::to_string(progFd) + ")");
  }
  return env.Undefined();
}

Napi::Value DetachSocketFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int socketFd = info[0].ToNumber().Int32Value();
  int unused = 0;
  if (setsockopt(socketFd, SOL_SOCKET, SO_DETACH_BPF, &unused, sizeof unused) != 0) {
    throw ErrnoError(env, errno, "setsockopt(fd " + std::to_string(socketFd) + ", SO_DETACH_BPF)");
  }
  return env.Undefined();
}

Napi::Value DetachTcHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int ifindex = info[0].ToNumber().Int32Value();
  bool egress = info[1].ToBoolean();
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
  LIBBPF_OPTS(bpf_tc_opts, opts, .handle = info[2].ToNumber().Uint32Value(), .priority = info[3].ToNumber().Uint32Value());
  int err = bpf_tc_detach(&hook, &opts);
  // The interface may be gone already, and its filters with it.
  if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
    throw ErrnoError(env, -err, "bpf_tc_detach(ifindex " + std::to_string(ifindex) + ")");
  }
  if (info[4].ToBoolean()) {
    hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
    bpf_tc_hook_destroy(&hook);
  }
  return env.Undefined();
}

}  // namespace lbc
