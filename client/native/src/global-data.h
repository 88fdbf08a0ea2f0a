// The value of a loaded BPF_F_MMAPABLE array map (.bss, .data, .data.*) mapped into the process,
// so JS reads and writes global variables in place, as the BPF program sees them.
#pragma once
#include <napi.h>

namespace lbc {

/** mapGlobalData(mapFd, byteLength, writable): ArrayBuffer over the map's single value. */
Napi::Value MapGlobalData(const Napi::CallbackInfo& info);
/** unmapGlobalData(buffer): detaches it, so the mapping (and its hold on the map) goes now, not at GC. */
Napi::Value UnmapGlobalData(const Napi::CallbackInfo& info);

}  // namespace lbc
