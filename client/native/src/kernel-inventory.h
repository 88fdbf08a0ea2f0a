// The links loaded in the kernel right now, for `lbc inspect links`: walks BPF_LINK_GET_NEXT_ID
// and asks each link for its info, the target decoded per link type (kernel-objects.cc reads
// programs, maps and BTF objects by id).
#pragma once
#include <napi.h>

namespace lbc {

Napi::Value ListLinks(const Napi::CallbackInfo& info);

// One link's entry as ListLinks gives it (type, program, target where the kernel tells it).
Napi::Object DescribeLink(Napi::Env env, int fd);

}  // namespace lbc
