// BPF uses that go through a plain fd rather than a libbpf link: reading a BPF iterator and
// socket filters set on a socket with setsockopt.
#pragma once
#include <napi.h>

namespace lbc {

/** readIterator(linkFd): bpf_iter_create, read to EOF, close; the iterator's whole output. */
Napi::Value ReadIterator(const Napi::CallbackInfo& info);
/** attachSocketFilter(socketFd, progFd): SO_ATTACH_BPF. */
Napi::Value AttachSocketFilter(const Napi::CallbackInfo& info);
/** detachSocketFilter(socketFd): SO_DETACH_BPF. */
Napi::Value DetachSocketFilter(const Napi::CallbackInfo& info);
/** detachTcHook(ifindex, egress, handle, priority, destroyHook): bpf_tc_detach (+ the clsact qdisc). */
Napi::Value DetachTcHook(const Napi::CallbackInfo& info);

}  // namespace lbc
