// Every failure leaves the addon as a JS Error carrying `errno` (positive) and, when libbpf said
// something during the call, `log`; TypeScript turns these into LbcErrors with catalogue codes.
#pragma once
#include <napi.h>

#include <string>

namespace lbc {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what, const std::string& log = "");

}  // namespace lbc
