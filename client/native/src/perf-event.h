// perf_event_open(2) and small fd/CPU helpers the attach layer needs.
#pragma once
#include <napi.h>

namespace lbc {

Napi::Value PerfEventOpen(const Napi::CallbackInfo& info);
Napi::Value CloseFd(const Napi::CallbackInfo& info);
Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info);

}  // namespace lbc
