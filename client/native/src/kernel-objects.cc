#include "kernel-objects.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "errno-error.h"
#include "kernel-inventory.h"

namespace lbc {

// Owns an fd for the length of one call.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

static uint32_t IdArg(const Napi::CallbackInfo& info, const char* call) {
  if (!info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(call) + "(id): id must be a number");
  return info[0].As<Napi::Number>().Uint32Value();
}

// ENOENT for an id no object has: TypeScript names it as such.
static Fd ById(Napi::Env env, int (*getFd)(uint32_t), uint32_t id, const char* what) {
  int fd = getFd(id);
  if (fd < 0) throw ErrnoError(env, errno, std::string(what) + " " + std::to_string(id));
  return Fd(fd);
}

template <typename Info>
static uint32_t GetInfo(Napi::Env env, int fd, Info* out, const char* what) {
  uint32_t len = sizeof *out;
  if (bpf_obj_get_info_by_fd(fd, out, &len) != 0) throw ErrnoError(env, errno, std::string("bpf_obj_get_info_by_fd(") + what + ")");
  return len;
}

// Whether the kernel filled `field` (the record it returned is `len` bytes long).
#define KNOWS(type, field, len) (offsetof(type, field) + sizeof(((type*)nullptr)->field) <= (len))

static Napi::BigInt U64(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

static std::string Hex(const unsigned char* bytes, size_t size) {
  std::string out;
  char pair[3];
  for (size_t i = 0; i < size; i++) {
    std::snprintf(pair, sizeof pair, "%02x", bytes[i]);
    out += pair;
  }
  return out;
}

Napi::Value ObjectIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string kind = info[0].ToString();
  int (*next)(uint32_t, uint32_t*) = nullptr;
  if (kind == "prog") next = bpf_prog_get_next_id;
  else if (kind == "map") next = bpf_map_get_next_id;
  else if (kind == "link") next = bpf_link_get_next_id;
  else if (kind == "btf") next = bpf_btf_get_next_id;
  else throw Napi::TypeError::New(env, "objectIds(kind): prog, map, link or btf");
  Napi::Array ids = Napi::Array::New(env);
  uint32_t id = 0, count = 0;
  while (next(id, &id) == 0) ids.Set(count++, id);
  if (errno != ENOENT) throw ErrnoError(env, errno, "bpf_" + kind + "_get_next_id");
  return ids;
}

Napi::Value ProgramInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd fd = ById(env, bpf_prog_get_fd_by_id, IdArg(info, "programInfo"), "bpf_prog_get_fd_by_id");
  bpf_prog_info prog{};
  uint32_t len = GetInfo(env, fd.get(), &prog, "prog");

  // The variable-length parts, asked for in a second call with room for them.
  std::vector<uint32_t> mapIds(prog.nr_map_ids);
  std::vector<bpf_func_info> funcs(prog.nr_func_info);
  uint32_t funcRecSize = prog.func_info_rec_size;
  if (!mapIds.empty() || (!funcs.empty() && funcRecSize == sizeof(bpf_func_info))) {
    bpf_prog_info more{};
    more.nr_map_ids = mapIds.size();
    more.map_ids = reinterpret_cast<uint64_t>(mapIds.data());
    if (funcRecSize == sizeof(bpf_func_info)) {
      more.nr_func_info = funcs.size();
      more.func_info_rec_size = funcRecSize;
      more.func_info = reinterpret_cast<uint64_t>(funcs.data());
    }
    GetInfo(env, fd.get(), &more, "prog");
    mapIds.resize(std::min<size_t>(mapIds.size(), more.nr_map_ids));
    funcs.resize(funcRecSize == sizeof(bpf_func_info) ? std::min<size_t>(funcs.size(), more.nr_func_info) : 0);
  } else {
    funcs.clear();
  }

  Napi::Object out = Napi::Object::New(env);
  out.Set("infoLen", len);
  out.Set("id", prog.id);
  out.Set("type", prog.type);
  const char* typeName = libbpf_bpf_prog_type_str(static_cast<bpf_prog_type>(prog.type));
  out.Set("typeName", typeName ? typeName : "unknown");
  out.Set("name", prog.name);
  out.Set("tag", Hex(prog.tag, sizeof prog.tag));
  out.Set("jitedLen", prog.jited_prog_len);
  out.Set("xlatedLen", prog.xlated_prog_len);
  out.Set("loadTimeNs", U64(env, prog.load_time));
  out.Set("uid", prog.created_by_uid);
  out.Set("gplCompatible", static_cast<bool>(prog.gpl_compatible));
  if (KNOWS(bpf_prog_info, btf_id, len)) out.Set("btfId", prog.btf_id);
  if (KNOWS(bpf_prog_info, run_cnt, len)) {
    out.Set("runCount", U64(env, prog.run_cnt));
    out.Set("runTimeNs", U64(env, prog.run_time_ns));
  }
  if (KNOWS(bpf_prog_info, recursion_misses, len)) out.Set("recursionMisses", U64(env, prog.recursion_misses));
  if (KNOWS(bpf_prog_info, verified_insns, len)) out.Set("verifiedInsns", prog.verified_insns);
  if (KNOWS(bpf_prog_info, attach_btf_id, len)) {
    out.Set("attachBtfObjId", prog.attach_btf_obj_id);
    out.Set("attachBtfId", prog.attach_btf_id);
  }
  Napi::Array maps = Napi::Array::New(env, mapIds.size());
  for (size_t i = 0; i < mapIds.size(); i++) maps.Set(i, mapIds[i]);
  out.Set("mapIds", maps);
  Napi::Array funcInfo = Napi::Array::New(env, funcs.size());
  for (size_t i = 0; i < funcs.size(); i++) {
    Napi::Object f = Napi::Object::New(env);
    f.Set("insnOff", funcs[i].insn_off);
    f.Set("typeId", funcs[i].type_id);
    funcInfo.Set(i, f);
  }
  out.Set("funcInfo", funcInfo);
  return out;
}

Napi::Value MapInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd fd = ById(env, bpf_map_get_fd_by_id, IdArg(info, "mapInfo"), "bpf_map_get_fd_by_id");
  bpf_map_info map{};
  uint32_t len = GetInfo(env, fd.get(), &map, "map");
  Napi::Object out = Napi::Object::New(env);
  out.Set("infoLen", len);
  out.Set("id", map.id);
  out.Set("type", map.type);
  const char* typeName = libbpf_bpf_map_type_str(static_cast<bpf_map_type>(map.type));
  out.Set("typeName", typeName ? typeName : "unknown");
  out.Set("name", map.name);
  out.Set("keySize", map.key_size);
  out.Set("valueSize", map.value_size);
  out.Set("maxEntries", map.max_entries);
  out.Set("flags", map.map_flags);
  out.Set("btfId", map.btf_id);
  out.Set("btfKeyTypeId", map.btf_key_type_id);
  out.Set("btfValueTypeId", map.btf_value_type_id);
  return out;
}

Napi::Value LinkInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd fd = ById(env, bpf_link_get_fd_by_id, IdArg(info, "linkInfo"), "bpf_link_get_fd_by_id");
  return DescribeLink(env, fd.get());
}

// withData: the raw BTF too (vmlinux's is megabytes: asked for only when its names are needed).
Napi::Value BtfInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Fd fd = ById(env, bpf_btf_get_fd_by_id, IdArg(info, "btfInfo"), "bpf_btf_get_fd_by_id");
  bool withData = info[1].ToBoolean();
  bpf_btf_info btf{};
  uint32_t len = GetInfo(env, fd.get(), &btf, "btf");
  std::vector<char> data(withData ? btf.btf_size : 0);
  char name[256] = {0};
  bpf_btf_info more{};
  more.btf = reinterpret_cast<uint64_t>(data.data());
  more.btf_size = data.size();
  if (KNOWS(bpf_btf_info, name_len, len)) {
    more.name = reinterpret_cast<uint64_t>(name);
    more.name_len = sizeof name - 1;
  }
  len = GetInfo(env, fd.get(), &more, "btf");
  Napi::Object out = Napi::Object::New(env);
  out.Set("infoLen", len);
  out.Set("id", more.id);
  out.Set("size", btf.btf_size);
  if (KNOWS(bpf_btf_info, kernel_btf, len)) {
    out.Set("name", name);
    out.Set("kernelBtf", static_cast<bool>(more.kernel_btf));
  }
  if (withData) out.Set("data", Napi::Buffer<char>::Copy(env, data.data(), std::min<size_t>(data.size(), more.btf_size)));
  return out;
}

// An fd the caller closes (closeFd): map element reads go through the fd functions of map-ops.
Napi::Value MapFdById(const Napi::CallbackInfo& info) {
  Fd fd = ById(info.Env(), bpf_map_get_fd_by_id, IdArg(info, "mapFdById"), "bpf_map_get_fd_by_id");
  return Napi::Number::New(info.Env(), fd.release());
}

// bpf_obj_get on a bpffs path: an fd the caller closes (what it is, /proc/self/fdinfo says).
Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  std::string path = info[0].ToString();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw ErrnoError(info.Env(), errno, "bpf_obj_get(" + path + ")");
  return Napi::Number::New(info.Env(), fd);
}

// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): the kernel counts run_cnt/run_time_ns while the returned
// fd is open (closeFd ends it).
Napi::Value EnableRunTimeStats(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) throw ErrnoError(info.Env(), errno, "bpf_enable_stats(BPF_STATS_RUN_TIME)");
  return Napi::Number::New(info.Env(), fd);
}

}  // namespace lbc
