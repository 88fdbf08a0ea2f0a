// Per-environment constructors, so native code can hand out wrapped handles (links, buffers).
#pragma once
#include <napi.h>

namespace lbc {

struct AddonData {
  Napi::FunctionReference objectConstructor;
  Napi::FunctionReference linkConstructor;
  Napi::FunctionReference ringBufferConstructor;
  Napi::FunctionReference perfBufferConstructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace lbc
