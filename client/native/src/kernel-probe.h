// Questions about what the running kernel can do, asked by loading something tiny (libbpf's
// probes, and a trampoline program the way libbpf-tools' fentry_can_attach does).
#pragma once
#include <napi.h>

namespace lbc {

/** probeMapType(type): libbpf_probe_bpf_map_type > 0. */
Napi::Value ProbeMapType(const Napi::CallbackInfo& info);
/** probeProgType(type): libbpf_probe_bpf_prog_type > 0. */
Napi::Value ProbeProgType(const Napi::CallbackInfo& info);
/** probeTrampoline(func, kind 'fentry'|'fexit'): { ok, errno } for loading a no-op program on func. */
Napi::Value ProbeTrampoline(const Napi::CallbackInfo& info);

}  // namespace lbc
