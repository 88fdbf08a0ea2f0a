// Attach kinds that need more than a section name: BPF iterators (with their map/task/cgroup
// parameters), USDT probes with an explicit target, kprobe.multi patterns, and TC programs on an
// interface (a tcx link where the kernel has tcx, else a filter on the clsact qdisc).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bpf-object.h"
#include "errno-error.h"
#include "libbpf-log.h"

namespace lbc {

// Not in every libbpf's linux/bpf.h (tcx arrived in Linux 6.6): the kernel's enum bpf_attach_type values.
static constexpr int kTcxIngress = 46;
static constexpr int kTcxEgress = 47;

static std::string Quoted(const std::string& text) { return "'" + text + "'"; }

static uint32_t OptionalU32(const Napi::Object& opts, const char* name) {
  Napi::Value value = opts.Get(name);
  return value.IsNumber() ? value.As<Napi::Number>().Uint32Value() : 0;
}

Napi::Value BpfObject::AttachIter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  union bpf_iter_link_info linkInfo;
  std::memset(&linkInfo, 0, sizeof linkInfo);
  bool parameterised = false;
  if (info[1].IsObject()) {
    Napi::Object opts = info[1].As<Napi::Object>();
    // The union's members overlap: the caller passes the one its iterator kind reads.
    if (opts.Has("mapFd")) {
      linkInfo.map.map_fd = OptionalU32(opts, "mapFd");
    } else if (opts.Has("cgroupFd") || opts.Has("cgroupId")) {
      linkInfo.cgroup.cgroup_fd = OptionalU32(opts, "cgroupFd");
      Napi::Value id = opts.Get("cgroupId");
      if (id.IsNumber()) linkInfo.cgroup.cgroup_id = static_cast<uint64_t>(id.As<Napi::Number>().Int64Value());
      linkInfo.cgroup.order = static_cast<enum bpf_cgroup_iter_order>(OptionalU32(opts, "order"));
    } else {
      linkInfo.task.tid = OptionalU32(opts, "tid");
      linkInfo.task.pid = OptionalU32(opts, "pid");
      linkInfo.task.pid_fd = OptionalU32(opts, "pidFd");
    }
    parameterised = true;
  }
  return AttachWith(env, "bpf_program__attach_iter(" + Quoted(bpf_program__name(prog)) + ")", [&] {
    LIBBPF_OPTS(bpf_iter_attach_opts, opts);
    if (parameterised) {
      opts.link_info = &linkInfo;
      opts.link_info_len = sizeof linkInfo;
    }
    return bpf_program__attach_iter(prog, &opts);
  });
}

Napi::Value BpfObject::AttachUsdt(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  int pid = info[1].ToNumber().Int32Value();
  std::string binary = info[2].ToString();
  std::string provider = info[3].ToString();
  std::string name = info[4].ToString();
  return AttachWith(env,
                    "bpf_program__attach_usdt(" + Quoted(bpf_program__name(prog)) + ", pid " + std::to_string(pid) + ", " +
                        Quoted(binary) + ", " + Quoted(provider + ":" + name) + ")",
                    [&] { return bpf_program__attach_usdt(prog, pid, binary.c_str(), provider.c_str(), name.c_str(), nullptr); });
}

Napi::Value BpfObject::AttachKprobeMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  std::string pattern = info[1].ToString();
  bool retprobe = info[2].ToBoolean();
  return AttachWith(env, "bpf_program__attach_kprobe_multi_opts(" + Quoted(bpf_program__name(prog)) + ", " + Quoted(pattern) + ")", [&] {
    LIBBPF_OPTS(bpf_kprobe_multi_opts, opts);
    opts.retprobe = retprobe;
    return bpf_program__attach_kprobe_multi_opts(prog, pattern.c_str(), &opts);
  });
}

// A struct_ops map (SEC(".struct_ops") / ".struct_ops.link"): registers its ops with the kernel;
// destroying the link unregisters them.
Napi::Value BpfObject::AttachStructOps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_map* map = FindMap(env, info[0]);
  return AttachWith(env, "bpf_map__attach_struct_ops(" + Quoted(bpf_map__name(map)) + ")", [&] { return bpf_map__attach_struct_ops(map); });
}

// uprobe.multi arrived in libbpf 1.3; an addon built against an older one says so.
Napi::Value BpfObject::AttachUprobeMulti(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  int pid = info[1].ToNumber().Int32Value();
  std::string binary = info[2].ToString();
  std::string pattern = info[3].ToString();
  bool retprobe = info[4].ToBoolean();
  std::string what = "bpf_program__attach_uprobe_multi(" + Quoted(bpf_program__name(prog)) + ", " + Quoted(binary + ":" + pattern) + ")";
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 3)
  return AttachWith(env, what, [&] {
    LIBBPF_OPTS(bpf_uprobe_multi_opts, opts);
    opts.retprobe = retprobe;
    return bpf_program__attach_uprobe_multi(prog, pid, binary.c_str(), pattern.c_str(), &opts);
  });
#else
  (void)pid;
  (void)retprobe;
  throw ErrnoError(env, ENOTSUP,
                   what + ": this addon is built with libbpf " + std::to_string(LIBBPF_MAJOR_VERSION) + "." +
                       std::to_string(LIBBPF_MINOR_VERSION) + ", which has no uprobe.multi (libbpf 1.3+)");
#endif
}

// tcx: a BPF link on the interface (Linux 6.6+), detached when its fd closes. Returns the link fd.
Napi::Value BpfObject::AttachTcx(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  int ifindex = info[1].ToNumber().Int32Value();
  bool egress = info[2].ToBoolean();
  LibbpfLogCapture capture;
  int fd = bpf_link_create(bpf_program__fd(prog), ifindex, static_cast<enum bpf_attach_type>(egress ? kTcxEgress : kTcxIngress), nullptr);
  if (fd < 0) {
    throw ErrnoError(env, errno,
                     "bpf_link_create(" + Quoted(bpf_program__name(prog)) + ", ifindex " + std::to_string(ifindex) +
                         (egress ? ", BPF_TCX_EGRESS)" : ", BPF_TCX_INGRESS)"),
                     capture.text());
  }
  return Napi::Number::New(env, fd);
}

// Before tcx: a direct-action filter on the interface's clsact qdisc (created when missing).
// Returns { handle, priority, createdHook } for detachTcHook.
Napi::Value BpfObject::AttachTcHook(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = FindProgram(env, info[0]);
  int ifindex = info[1].ToNumber().Int32Value();
  bool egress = info[2].ToBoolean();
  std::string what = "bpf_tc_attach(" + Quoted(bpf_program__name(prog)) + ", ifindex " + std::to_string(ifindex) + (egress ? ", egress)" : ", ingress)");
  LibbpfLogCapture capture;
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
  int err = bpf_tc_hook_create(&hook);
  bool createdHook = err == 0;
  if (err != 0 && err != -EEXIST) throw ErrnoError(env, -err, "bpf_tc_hook_create(ifindex " + std::to_string(ifindex) + ")", capture.text());
  LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
  err = bpf_tc_attach(&hook, &opts);
  if (err != 0) {
    if (createdHook) {
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);
    }
    throw ErrnoError(env, -err, what, capture.text());
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("handle", opts.handle);
  result.Set("priority", opts.priority);
  result.Set("createdHook", createdHook);
  return result;
}

}  // namespace lbc
