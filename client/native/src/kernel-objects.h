// One loaded kernel object by id, for `lbc inspect`: the info records the kernel fills for a
// program, a map, a link or a BTF object (with the variable-length parts: map ids, func_info, raw
// BTF), an fd for a map or a pinned path, and the kernel's run-time statistics switch. The fields
// each kernel knows differ: `infoLen` says how much of the record it filled; TypeScript decodes.
#pragma once
#include <napi.h>

namespace lbc {

Napi::Value ObjectIds(const Napi::CallbackInfo& info);
Napi::Value ProgramInfo(const Napi::CallbackInfo& info);
Napi::Value MapInfo(const Napi::CallbackInfo& info);
Napi::Value LinkInfo(const Napi::CallbackInfo& info);
Napi::Value BtfInfo(const Napi::CallbackInfo& info);
Napi::Value MapFdById(const Napi::CallbackInfo& info);
Napi::Value ObjGet(const Napi::CallbackInfo& info);
Napi::Value EnableRunTimeStats(const Napi::CallbackInfo& info);

}  // namespace lbc
