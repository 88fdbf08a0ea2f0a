// Map element operations by fd. The addon copies bytes; sizes (per-CPU rounding included) and
// encoding are decided in TypeScript.
#pragma once
#include <napi.h>

namespace lbc {

Napi::Value MapLookup(const Napi::CallbackInfo& info);
Napi::Value MapUpdate(const Napi::CallbackInfo& info);
Napi::Value MapDelete(const Napi::CallbackInfo& info);
Napi::Value MapNextKey(const Napi::CallbackInfo& info);

}  // namespace lbc
