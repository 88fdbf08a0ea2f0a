// Per-environment constructors, so native code can hand out wrapped handles (links, buffers).
#pragma once
#include <napi.h>

#include <cstdint>
#include <unordered_map>

namespace lbc {

struct AddonData {
  Napi::FunctionReference objectConstructor;
  Napi::FunctionReference linkConstructor;
  Napi::FunctionReference ringBufferConstructor;
  Napi::FunctionReference ringViewConstructor;
  // Weak: ring data areas by map id, while JS still holds them (see ring-view.cc).
  std::unordered_map<uint32_t, Napi::Reference<Napi::ArrayBuffer>> ringViews;
  Napi::FunctionReference perfBufferConstructor;
  Napi::FunctionReference packetSocketConstructor;
};

inline AddonData& GetAddonData(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace lbc
