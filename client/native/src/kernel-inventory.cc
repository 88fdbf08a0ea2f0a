#include "kernel-inventory.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "errno-error.h"

namespace lbc {

// The installed uapi header predates perf_event link info (kernel 6.6); this is that union member's
// layout, read when the running kernel fills it.
namespace perf_link {
enum Kind : uint32_t { kUprobe = 1, kUretprobe = 2, kKprobe = 3, kKretprobe = 4, kTracepoint = 5, kEvent = 6 };
struct Info {
  uint32_t type;
  uint32_t id;
  uint32_t progId;
  uint32_t padding;
  uint32_t kind;
  uint32_t padding2;
  union {
    struct {
      uint64_t fileName;
      uint32_t nameLen;
      uint32_t offset;
      uint64_t cookie;
      uint64_t refCtrOffset;
    } uprobe;
    struct {
      uint64_t funcName;
      uint32_t nameLen;
      uint32_t offset;
      uint64_t addr;
      uint64_t missed;
      uint64_t cookie;
    } kprobe;
    struct {
      uint64_t tpName;
      uint32_t nameLen;
      uint32_t padding;
      uint64_t cookie;
    } tracepoint;
    struct {
      uint64_t config;
      uint32_t type;
      uint32_t padding;
      uint64_t cookie;
    } event;
  };
};
constexpr uint32_t kLinkType = 7;  // BPF_LINK_TYPE_PERF_EVENT
}  // namespace perf_link

template <typename GetNext, typename GetFd, typename Describe>
static Napi::Array Walk(Napi::Env env, const char* what, GetNext getNext, GetFd getFd, Describe describe) {
  Napi::Array list = Napi::Array::New(env);
  uint32_t id = 0;
  uint32_t count = 0;
  while (getNext(id, &id) == 0) {
    int fd = getFd(id);
    // Gone between the two calls: it is simply no longer loaded.
    if (fd < 0) {
      if (errno == ENOENT) continue;
      throw ErrnoError(env, errno, std::string(what) + " id " + std::to_string(id));
    }
    try {
      Napi::Object entry = describe(fd);
      close(fd);
      list.Set(count++, entry);
    } catch (...) {
      close(fd);
      throw;
    }
  }
  if (errno != ENOENT) throw ErrnoError(env, errno, std::string(what) + " walk");
  return list;
}

static const char* OrUnknown(const char* name) { return name ? name : "unknown"; }

static void DescribeLinkTarget(Napi::Env env, int fd, const bpf_link_info& link, Napi::Object entry) {
  char name[512] = {0};
  switch (link.type) {
    case BPF_LINK_TYPE_RAW_TRACEPOINT: {
      bpf_link_info again{};
      again.raw_tracepoint.tp_name = reinterpret_cast<uint64_t>(name);
      again.raw_tracepoint.tp_name_len = sizeof name;
      uint32_t size = sizeof again;
      if (bpf_obj_get_info_by_fd(fd, &again, &size) == 0) entry.Set("target", name);
      break;
    }
    case BPF_LINK_TYPE_TRACING:
      entry.Set("attachType", OrUnknown(libbpf_bpf_attach_type_str(static_cast<bpf_attach_type>(link.tracing.attach_type))));
      entry.Set("targetBtfId", link.tracing.target_btf_id);
      entry.Set("targetObjId", link.tracing.target_obj_id);
      break;
    case BPF_LINK_TYPE_CGROUP:
      entry.Set("attachType", OrUnknown(libbpf_bpf_attach_type_str(static_cast<bpf_attach_type>(link.cgroup.attach_type))));
      entry.Set("target", "cgroup " + std::to_string(link.cgroup.cgroup_id));
      break;
    case BPF_LINK_TYPE_NETNS:
      entry.Set("attachType", OrUnknown(libbpf_bpf_attach_type_str(static_cast<bpf_attach_type>(link.netns.attach_type))));
      entry.Set("target", "netns " + std::to_string(link.netns.netns_ino));
      break;
    case BPF_LINK_TYPE_XDP:
      entry.Set("target", "ifindex " + std::to_string(link.xdp.ifindex));
      break;
    case perf_link::kLinkType: {
      perf_link::Info perf{};
      perf.uprobe.fileName = reinterpret_cast<uint64_t>(name);
      perf.uprobe.nameLen = sizeof name;
      uint32_t size = sizeof perf;
      if (bpf_obj_get_info_by_fd(fd, &perf, &size) != 0) break;
      switch (perf.kind) {
        case perf_link::kUprobe:
        case perf_link::kUretprobe:
          entry.Set("attachType", perf.kind == perf_link::kUprobe ? "uprobe" : "uretprobe");
          {
            char offset[24];
            std::snprintf(offset, sizeof offset, "+0x%x", perf.uprobe.offset);
            entry.Set("target", std::string(name) + offset);
          }
          break;
        case perf_link::kKprobe:
        case perf_link::kKretprobe:
          entry.Set("attachType", perf.kind == perf_link::kKprobe ? "kprobe" : "kretprobe");
          entry.Set("target", name);
          break;
        case perf_link::kTracepoint:
          entry.Set("attachType", "tracepoint");
          entry.Set("target", name);
          break;
        case perf_link::kEvent:
          entry.Set("attachType", "perf_event");
          entry.Set("target", "type " + std::to_string(perf.event.type) + " config " + std::to_string(perf.event.config));
          break;
      }
      break;
    }
  }
}

Napi::Object DescribeLink(Napi::Env env, int fd) {
  bpf_link_info link{};
  uint32_t size = sizeof link;
  if (bpf_obj_get_info_by_fd(fd, &link, &size) != 0) throw ErrnoError(env, errno, "bpf_obj_get_info_by_fd(link)");
  Napi::Object entry = Napi::Object::New(env);
  entry.Set("id", link.id);
  entry.Set("type", link.type);
  entry.Set("typeName", OrUnknown(libbpf_bpf_link_type_str(static_cast<bpf_link_type>(link.type))));
  entry.Set("progId", link.prog_id);
  DescribeLinkTarget(env, fd, link, entry);
  return entry;
}

Napi::Value ListLinks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Walk(env, "bpf_link_get_fd_by_id", bpf_link_get_next_id, bpf_link_get_fd_by_id, [&](int fd) { return DescribeLink(env, fd); });
}

}  // namespace lbc
