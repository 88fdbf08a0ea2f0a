// What is loaded in the kernel right now (programs, maps, links), for `lbc inspect`:
// walks the *_GET_NEXT_ID commands and asks each object for its info.
#pragma once
#include <napi.h>

namespace lbc {

Napi::Value ListPrograms(const Napi::CallbackInfo& info);
Napi::Value ListMaps(const Napi::CallbackInfo& info);
Napi::Value ListLinks(const Napi::CallbackInfo& info);

// One link's entry as ListLinks gives it (type, program, target where the kernel tells it).
Napi::Object DescribeLink(Napi::Env env, int fd);

}  // namespace lbc
