#include "perf-event.h"

#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "errno-error.h"

namespace lbc {

static uint64_t U64Field(const Napi::Object& attr, const char* name) {
  Napi::Value value = attr.Get(name);
  if (value.IsBigInt()) {
    bool lossless;
    return value.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (value.IsNumber()) return static_cast<uint64_t>(value.As<Napi::Number>().Int64Value());
  return 0;
}

static bool Has(const Napi::Object& attr, const char* name) {
  return !attr.Get(name).IsUndefined();
}

static uint64_t Flag(const Napi::Object& attr, const char* name) {
  return attr.Get(name).ToBoolean().Value() ? 1 : 0;
}

Napi::Value PerfEventOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "perfEventOpen(attr, pid, cpu)");
  Napi::Object spec = info[0].As<Napi::Object>();
  int pid = info[1].ToNumber().Int32Value();
  int cpu = info[2].ToNumber().Int32Value();

  perf_event_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  attr.type = static_cast<uint32_t>(U64Field(spec, "type"));
  attr.config = U64Field(spec, "config");
  uint64_t freq = U64Field(spec, "sampleFreq");
  if (freq != 0) {
    attr.freq = 1;
    attr.sample_freq = freq;
  } else {
    attr.sample_period = U64Field(spec, "samplePeriod");
  }
  attr.sample_type = U64Field(spec, "sampleType");
  attr.wakeup_events = static_cast<uint32_t>(U64Field(spec, "wakeupEvents"));
  // Attaching enables the event (libbpf's PERF_EVENT_IOC_ENABLE), so a disabled one starts with the program.
  attr.disabled = Flag(spec, "disabled");
  attr.inherit = Flag(spec, "inherit");
  attr.exclude_user = Flag(spec, "excludeUser");
  attr.exclude_kernel = Flag(spec, "excludeKernel");
  attr.exclude_hv = Flag(spec, "excludeHv");
  attr.exclude_idle = Flag(spec, "excludeIdle");
  attr.exclude_host = Flag(spec, "excludeHost");
  attr.exclude_guest = Flag(spec, "excludeGuest");
  attr.exclude_callchain_kernel = Flag(spec, "excludeCallchainKernel");
  attr.exclude_callchain_user = Flag(spec, "excludeCallchainUser");
  attr.precise_ip = static_cast<uint64_t>(U64Field(spec, "preciseIp") & 3);
  // Hardware breakpoints (PERF_TYPE_BREAKPOINT): bp_addr and bp_len share their place with
  // config1 and config2, which other PMUs read instead.
  attr.bp_type = static_cast<uint32_t>(U64Field(spec, "bpType"));
  attr.config1 = U64Field(spec, "config1");
  attr.config2 = U64Field(spec, "config2");
  if (Has(spec, "bpAddr")) attr.bp_addr = U64Field(spec, "bpAddr");
  if (Has(spec, "bpLen")) attr.bp_len = U64Field(spec, "bpLen");
  long fd = syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    throw ErrnoError(env, errno,
                     "perf_event_open(type " + std::to_string(attr.type) + ", config " + std::to_string(attr.config) + ", pid " +
                         std::to_string(pid) + ", cpu " + std::to_string(cpu) + ")");
  }
  return Napi::Number::New(env, static_cast<double>(fd));
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd = info[0].ToNumber().Int32Value();
  if (fd >= 0 && close(fd) != 0 && errno != EINTR) throw ErrnoError(info.Env(), errno, "close(" + std::to_string(fd) + ")");
  return info.Env().Undefined();
}

Napi::Value NumPossibleCpus(const Napi::CallbackInfo& info) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) throw ErrnoError(info.Env(), cpus, "libbpf_num_possible_cpus()");
  return Napi::Number::New(info.Env(), cpus);
}

}  // namespace lbc
