// lbc-lab-runner: the kernel lab's guest side of `lbc verify`. Runs as the guest's /lab/run
// (statically linked against the pinned libbpf the client's addon links), follows the plan the
// host computed with the client's code (plan.h), and prints one verdict: per program, whether it
// loaded (the verifier's instruction counts, or the log's tail), attached (or the errno in words)
// and fired while the workload ran; per map, what it held afterwards.
//   lbc-lab-runner OBJECT PLAN
// Every line it prints for the host is a console record (guest-console.ts): the marker, a JSON value.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "errno-words.h"
#include "json-out.h"
#include "libbpf-log.h"
#include "plan.h"
#include "trampoline-probe.h"

namespace lab {

static const char* RECORD = "@@LBC-LAB@@";
static const size_t LOG_TAIL_LINES = 20;

static double NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void Emit(const Json& json) {
  std::printf("%s %s\n", RECORD, json.text().c_str());
  std::fflush(stdout);
}

static void Stage(const char* stage) {
  Json j;
  j.Open().Key("stage").String(stage).Close();
  Emit(j);
}

[[noreturn]] static void Fatal(const std::string& message) {
  Json j;
  j.Open().Key("fatal").String(message).Close();
  Emit(j);
  std::exit(2);
}

struct ProgramState {
  bpf_program* prog = nullptr;
  std::string name;
  bool autoload = true;
  const TurnOff* turnedOff = nullptr;
  bool loaded = false;
  long long verified = -1;
  long long instructions = -1;
  std::vector<uint32_t> mapIds;
  bool attached = false;
  bool manualAttach = false;
  bpf_link* link = nullptr;
  long long runs = -1;
  std::string error;
  std::vector<std::string> log;
  std::vector<std::string> messages;  // libbpf's lines about this program
};

struct BufferCount {
  std::string name;
  uint32_t id = 0;
  long long records = 0;
  long long lost = 0;
};

static std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

static std::vector<std::string> Tail(const std::vector<std::string>& lines, size_t n) {
  std::vector<std::string> kept;
  for (const auto& l : lines)
    if (!l.empty()) kept.push_back(l);
  if (kept.size() > n) kept.erase(kept.begin(), kept.end() - n);
  return kept;
}

// libbpf prints each failed program's verifier log between BEGIN/END lines, and its own messages
// as "libbpf: prog 'NAME': ..."; the rest concerns the object (maps, BTF, relocations).
static void SortLoadLog(const std::string& text, std::map<std::string, ProgramState*>& byName, std::vector<std::string>& objectLines) {
  static const std::string kBegin = "': -- BEGIN PROG LOAD LOG --";
  static const std::string kEnd = "-- END PROG LOAD LOG --";
  ProgramState* inLog = nullptr;
  std::vector<std::string> log;
  for (std::string line : Lines(text)) {
    if (inLog != nullptr) {
      size_t end = line.find(kEnd);
      if (end == std::string::npos) {
        log.push_back(line);
        continue;
      }
      if (end > 0) log.push_back(line.substr(0, end));
      inLog->log = Tail(log, LOG_TAIL_LINES);
      inLog = nullptr;
      continue;
    }
    if (line.rfind("libbpf: ", 0) == 0) line = line.substr(8);
    if (line.rfind("prog '", 0) == 0) {
      size_t close = line.find("': ", 6);
      std::string name = close == std::string::npos ? "" : line.substr(6, close - 6);
      auto it = byName.find(name);
      if (it != byName.end()) {
        if (line.compare(close, kBegin.size(), kBegin) == 0) {
          inLog = it->second;
          log.clear();
        } else {
          it->second->messages.push_back(line.substr(close + 3));
        }
        continue;
      }
    }
    if (!line.empty()) objectLines.push_back(line);
  }
  if (inLog != nullptr) inLog->log = Tail(log, LOG_TAIL_LINES);
}

// "failed to load: -13" → 13, from libbpf's messages about one program.
static int LoadErrno(const ProgramState& p) {
  for (const auto& m : p.messages) {
    size_t at = m.find("failed to load: -");
    if (at != std::string::npos) return std::atoi(m.c_str() + at + 17);
  }
  return 0;
}

static void ReadInfo(ProgramState& p) {
  int fd = bpf_program__fd(p.prog);
  if (fd < 0) return;
  bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  uint32_t len = sizeof info;
  if (bpf_prog_get_info_by_fd(fd, &info, &len) != 0) return;
  p.instructions = info.xlated_prog_len / 8;
  // verified_insns came with Linux 5.16: an older kernel returns a shorter info.
  if (len >= offsetof(bpf_prog_info, verified_insns) + sizeof info.verified_insns) p.verified = info.verified_insns;
  p.runs = static_cast<long long>(info.run_cnt);
  uint32_t nMaps = info.nr_map_ids;
  if (nMaps > 0) {
    std::vector<uint32_t> ids(nMaps);
    std::memset(&info, 0, sizeof info);
    info.nr_map_ids = nMaps;
    info.map_ids = reinterpret_cast<uint64_t>(ids.data());
    len = sizeof info;
    if (bpf_prog_get_info_by_fd(fd, &info, &len) == 0) {
      ids.resize(std::min(nMaps, info.nr_map_ids));
      p.mapIds = ids;
    }
  }
}

static long long RunCount(const ProgramState& p) {
  int fd = bpf_program__fd(p.prog);
  bpf_prog_info info;
  std::memset(&info, 0, sizeof info);
  uint32_t len = sizeof info;
  if (fd < 0 || bpf_prog_get_info_by_fd(fd, &info, &len) != 0) return -1;
  return static_cast<long long>(info.run_cnt);
}

static uint32_t MapId(int fd) {
  bpf_map_info info;
  std::memset(&info, 0, sizeof info);
  uint32_t len = sizeof info;
  return bpf_map_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

// Run counts need BPF stats (off by default); the fd keeps them on for the runner's life.
static void EnableStats() {
  if (bpf_enable_stats(BPF_STATS_RUN_TIME) >= 0) return;
  int fd = open("/proc/sys/kernel/bpf_stats_enabled", O_WRONLY);
  if (fd >= 0) {
    (void)!write(fd, "1", 1);
    close(fd);
  }
}

static int CountRecord(void* ctx, void*, size_t) {
  static_cast<BufferCount*>(ctx)->records++;
  return 0;
}
static void CountSample(void* ctx, int, void*, uint32_t) { static_cast<BufferCount*>(ctx)->records++; }
static void CountLost(void* ctx, int, __u64 n) { static_cast<BufferCount*>(ctx)->lost += static_cast<long long>(n); }

struct WorkloadResult {
  int runs = 0;
  int failures = 0;
  int firstFailure = 0;  // exit status (or 128 + signal) of the first failing run
  std::string error;
};

static WorkloadResult RunWorkload(const Plan& plan, ring_buffer* rings, std::vector<perf_buffer*>& perfs) {
  WorkloadResult result;
  std::vector<char*> argv;
  for (const auto& a : plan.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (int i = 0; i < plan.repeat; i++) {
    pid_t pid = fork();
    if (pid < 0) {
      result.error = std::string("fork: ") + std::strerror(errno);
      break;
    }
    if (pid == 0) {
      int devnull = open("/dev/null", O_RDWR);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    result.runs++;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != 0 && result.failures++ == 0) result.firstFailure = code;
    if (rings) ring_buffer__consume(rings);
    for (auto* pb : perfs) perf_buffer__consume(pb);
  }
  return result;
}

static bool IsArrayLike(bpf_map_type t) { return t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_PERCPU_ARRAY; }
static bool IsKeyed(bpf_map_type t) {
  return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_LRU_HASH || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH ||
         t == BPF_MAP_TYPE_LPM_TRIE || t == BPF_MAP_TYPE_HASH_OF_MAPS || t == BPF_MAP_TYPE_STACK_TRACE;
}
static bool IsPerCpu(bpf_map_type t) {
  return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

// Keys of a hash-like map; entries of an array whose value is not all zero (arrays always hold max_entries).
static long long CountEntries(bpf_map* map) {
  int fd = bpf_map__fd(map);
  bpf_map_type type = bpf_map__type(map);
  if (fd < 0 || bpf_map__is_internal(map)) return -1;
  std::vector<char> key(bpf_map__key_size(map) ? bpf_map__key_size(map) : 1), next(key.size());
  long long count = 0;
  if (IsKeyed(type)) {
    void* prev = nullptr;
    while (count < 1000000 && bpf_map_get_next_key(fd, prev, next.data()) == 0) {
      count++;
      key.swap(next);
      prev = key.data();
    }
    return count;
  }
  if (IsArrayLike(type)) {
    size_t valueSize = bpf_map__value_size(map);
    if (IsPerCpu(type)) valueSize = ((valueSize + 7) / 8 * 8) * static_cast<size_t>(libbpf_num_possible_cpus());
    std::vector<char> value(valueSize);
    for (uint32_t i = 0; i < bpf_map__max_entries(map) && i < 1000000; i++) {
      if (bpf_map_lookup_elem(fd, &i, value.data()) != 0) continue;
      for (char c : value)
        if (c != 0) {
          count++;
          break;
        }
    }
    return count;
  }
  return -1;
}

static std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fatal("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

static int Run(const std::string& objectPath, const std::string& planPath) {
  const double start = NowMs();
  lbc::InstallLibbpfPrinter();
  Plan plan;
  std::string planError;
  if (!ReadPlan(planPath, plan, planError)) Fatal(planError);
  Stage("loading");

  const std::string bytes = ReadFile(objectPath);
  bpf_object* obj = nullptr;
  {
    lbc::LibbpfLogCapture capture;
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "object");
    obj = bpf_object__open_mem(bytes.data(), bytes.size(), &opts);
    if (obj == nullptr) Fatal("bpf_object__open: " + ErrnoWords(errno, Step::Load) + "\n" + capture.text());
  }

  std::vector<ProgramState> programs;
  std::map<std::string, ProgramState*> byName;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    ProgramState p;
    p.prog = prog;
    p.name = bpf_program__name(prog);
    programs.push_back(p);
  }
  for (auto& p : programs) byName[p.name] = &p;

  // The set-up the client would apply (the host checked every name against the object).
  {
    lbc::LibbpfLogCapture capture;
    for (const auto& [name, on] : plan.autoload) {
      auto it = byName.find(name);
      if (it == byName.end() || bpf_program__set_autoload(it->second->prog, on) != 0) Fatal("autoload: no program '" + name + "'");
    }
    for (const auto& [name, n] : plan.maxEntries) {
      bpf_map* map = bpf_object__find_map_by_name(obj, name.c_str());
      if (map == nullptr || bpf_map__set_max_entries(map, n) != 0) Fatal("max_entries: cannot set map '" + name + "'\n" + capture.text());
    }
    for (const auto& [section, value] : plan.initialValues) {
      bpf_map* map = bpf_object__find_map_by_name(obj, section.c_str());
      if (map == nullptr || bpf_map__set_initial_value(map, value.data(), value.size()) != 0) {
        Fatal("initial value of " + section + ": not set\n" + capture.text());
      }
    }
  }

  // The twin choice: the same probe the client runs, on this kernel.
  Json probes;
  probes.OpenArray();
  std::map<std::string, bool> answers;
  for (const auto& probe : plan.probes) {
    lbc::LibbpfLogCapture quiet;
    lbc::TrampolineAnswer a = lbc::ProbeTrampolineAttach(probe.func, probe.fexit);
    answers[probe.id] = a.ok;
    probes.Open().Key("func").String(probe.func).Key("kind").String(probe.fexit ? "fexit" : "fentry").Key("attaches").Bool(a.ok);
    if (!a.ok) probes.Key("error").String(a.reason + ": " + ErrnoWords(a.err, Step::Attach));
    probes.Close();
  }
  probes.CloseArray();
  for (const auto& t : plan.turnOffs) {
    bool applies = t.when == "always" || (answers.count(t.probe) && answers[t.probe] == (t.when == "attaches"));
    auto it = byName.find(t.prog);
    if (!applies || it == byName.end()) continue;
    bpf_program__set_autoload(it->second->prog, false);
    it->second->turnedOff = &t;
  }
  for (auto& p : programs) p.autoload = bpf_program__autoload(p.prog);

  EnableStats();
  std::vector<std::string> objectLines;
  const double loadStart = NowMs();
  int loadErr = 0;
  {
    lbc::LibbpfLogCapture capture;
    loadErr = bpf_object__load(obj);
    SortLoadLog(capture.text(), byName, objectLines);
  }
  const double loadMs = NowMs() - loadStart;
  std::string stoppedAt;
  for (auto& p : programs) {
    if (!p.autoload) continue;
    p.loaded = bpf_program__fd(p.prog) >= 0 && loadErr == 0;
    if (p.loaded) {
      ReadInfo(p);
      continue;
    }
    int err = LoadErrno(p);
    if (err != 0 || !p.log.empty()) {
      std::string detail = p.log.empty() ? (p.messages.empty() ? "" : p.messages.front()) : p.log.back();
      p.error = ErrnoWords(err ? err : -loadErr, Step::Load) + (detail.empty() ? "" : ": " + detail);
      if (stoppedAt.empty()) stoppedAt = p.name;
    }
  }
  if (loadErr != 0) {
    std::string why = objectLines.empty() ? "" : ": " + Tail(objectLines, 3).back();
    for (auto& p : programs) {
      if (!p.autoload || !p.error.empty()) continue;
      p.error = stoppedAt.empty() ? "not loaded: the object's load failed, " + ErrnoWords(loadErr, Step::Load) + why
                                  : "not loaded: the object's load stopped at program '" + stoppedAt + "'";
    }
  }

  Stage("attaching");
  for (auto& p : programs) {
    if (!p.loaded) continue;
    lbc::LibbpfLogCapture capture;
    p.link = bpf_program__attach(p.prog);
    if (p.link != nullptr) {
      p.attached = true;
      continue;
    }
    int err = errno;
    std::vector<std::string> said;
    for (const auto& l : Lines(capture.text())) {
      std::string line = l.rfind("libbpf: ", 0) == 0 ? l.substr(8) : l;
      if (!line.empty()) said.push_back(line);
    }
    // Sections that name no target (SEC("uprobe"), SEC("xdp"), SEC("socket") ...) attach by hand
    // with parameters only the caller knows: the client leaves them unattached too.
    if ((err == EOPNOTSUPP || err == ESRCH) && said.empty()) {
      p.manualAttach = true;
      p.error = "attaches by hand only (its section names no target); left unattached as the client does";
      continue;
    }
    p.error = ErrnoWords(err, Step::Attach) + (said.empty() ? "" : ": " + said.back());
  }

  // Buffers the programs write to, drained while the workload runs.
  Stage("workload");
  std::vector<BufferCount> counts;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    bpf_map_type t = bpf_map__type(map);
    if (bpf_map__fd(map) >= 0 && (t == BPF_MAP_TYPE_RINGBUF || t == BPF_MAP_TYPE_PERF_EVENT_ARRAY)) counts.push_back({bpf_map__name(map), MapId(bpf_map__fd(map))});
  }
  ring_buffer* rings = nullptr;
  std::vector<perf_buffer*> perfs;
  size_t i = 0;
  bpf_object__for_each_map(map, obj) {
    bpf_map_type t = bpf_map__type(map);
    if (bpf_map__fd(map) < 0 || (t != BPF_MAP_TYPE_RINGBUF && t != BPF_MAP_TYPE_PERF_EVENT_ARRAY)) continue;
    BufferCount* count = &counts[i++];
    lbc::LibbpfLogCapture quiet;
    if (t == BPF_MAP_TYPE_RINGBUF) {
      if (rings == nullptr) rings = ring_buffer__new(bpf_map__fd(map), CountRecord, count, nullptr);
      else ring_buffer__add(rings, bpf_map__fd(map), CountRecord, count);
    } else {
      perf_buffer* pb = perf_buffer__new(bpf_map__fd(map), 8, CountSample, CountLost, count, nullptr);
      if (pb) perfs.push_back(pb);
    }
  }
  std::vector<long long> runsBefore;
  for (auto& p : programs) runsBefore.push_back(p.loaded ? RunCount(p) : -1);
  const double workloadStart = NowMs();
  WorkloadResult workload;
  if (plan.repeat > 0 && !plan.command.empty()) workload = RunWorkload(plan, rings, perfs);
  if (rings) ring_buffer__consume(rings);
  for (auto* pb : perfs) perf_buffer__consume(pb);
  const double workloadMs = NowMs() - workloadStart;

  Json out;
  out.Open().Key("verdict").Open();
  out.Key("programs").OpenArray();
  for (size_t k = 0; k < programs.size(); k++) {
    ProgramState& p = programs[k];
    out.Open().Key("name").String(p.name).Key("section").String(bpf_program__section_name(p.prog));
    const char* type = libbpf_bpf_prog_type_str(bpf_program__type(p.prog));
    out.Key("type").String(type ? type : "unknown").Key("autoload").Bool(p.autoload);
    if (p.turnedOff) out.Key("turnedOff").Open().Key("instead").String(p.turnedOff->instead).Key("reason").String(p.turnedOff->reason).Close();
    out.Key("loaded").Bool(p.loaded);
    if (p.verified >= 0) out.Key("verifiedInstructions").Number(p.verified);
    if (p.instructions >= 0) out.Key("instructions").Number(p.instructions);
    out.Key("attached").Bool(p.attached);
    if (p.manualAttach) out.Key("manualAttach").Bool(true);
    if (p.attached) {
      long long runs = RunCount(p);
      if (runs >= 0 && runsBefore[k] >= 0) out.Key("runs").Number(runs - runsBefore[k]);
      // Events: the records of the ring/perf buffers this program writes to, else its run count.
      long long records = -1;
      for (const auto& c : counts)
        for (uint32_t id : p.mapIds)
          if (id == c.id) records = (records < 0 ? 0 : records) + c.records;
      if (records >= 0) out.Key("events").Number(records);
      else if (runs >= 0 && runsBefore[k] >= 0) out.Key("events").Number(runs - runsBefore[k]);
    }
    if (!p.error.empty()) out.Key("error").String(p.error);
    if (!p.log.empty()) out.Key("verifierLog").Strings(p.log);
    out.Close();
  }
  out.CloseArray();
  out.Key("maps").OpenArray();
  bpf_object__for_each_map(map, obj) {
    if (bpf_map__is_internal(map)) continue;
    const char* type = libbpf_bpf_map_type_str(bpf_map__type(map));
    out.Open().Key("name").String(bpf_map__name(map)).Key("type").String(type ? type : "unknown").Key("maxEntries").Number(bpf_map__max_entries(map));
    if (bpf_map__fd(map) < 0) out.Key("created").Bool(false);
    long long entries = CountEntries(map);
    if (entries >= 0) out.Key("entries").Number(entries);
    for (const auto& c : counts)
      if (c.name == bpf_map__name(map)) {
        out.Key("records").Number(c.records);
        if (c.lost) out.Key("lost").Number(c.lost);
      }
    out.Close();
  }
  out.CloseArray();
  out.Key("probes").Value(probes.text());
  if (loadErr != 0) out.Key("loadError").String(ErrnoWords(loadErr, Step::Load)).Key("libbpf").Strings(Tail(objectLines, LOG_TAIL_LINES));
  if (!plan.command.empty()) {
    out.Key("workload").Open().Key("runs").Number(workload.runs).Key("failures").Number(workload.failures);
    if (workload.failures) out.Key("firstFailureStatus").Number(workload.firstFailure);
    if (!workload.error.empty()) out.Key("error").String(workload.error);
    out.Close();
  }
  out.Key("guestMs").Open().Key("load").Number(static_cast<long long>(loadMs)).Key("workload").Number(static_cast<long long>(workloadMs));
  out.Key("total").Number(static_cast<long long>(NowMs() - start)).Close();
  out.Close().Close();
  Emit(out);

  for (auto& p : programs) bpf_link__destroy(p.link);
  ring_buffer__free(rings);
  for (auto* pb : perfs) perf_buffer__free(pb);
  bpf_object__close(obj);
  return 0;
}

}  // namespace lab

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: lbc-lab-runner OBJECT PLAN\n");
    return 2;
  }
  return lab::Run(argv[1], argv[2]);
}
