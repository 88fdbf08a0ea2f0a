// The plan a guest runner follows: what the client would do to the object before load, computed
// on the host by the client's own TypeScript (services/worker/src/verify/guest-plan.ts writes it),
// plus the one choice only the guest's kernel can make (trampoline probes for fentry/kprobe twins).
//
// One instruction a line, fields separated by tabs (names and reasons never hold tabs or newlines):
//   autoload      PROG  0|1
//   max_entries   MAP   N
//   initial_value SECTION HEX          (.rodata, .data, .bss, .data.NAME ... : the whole section's bytes)
//   probe         ID    fentry|fexit FUNC
//   turn_off      ID|-  attaches|fails|always  PROG  INSTEAD  REASON
//   workload      REPEAT ARGV0 [ARGV1 ...]
#pragma once
#include <string>
#include <vector>

namespace lab {

struct TurnOff {
  /** The probe it depends on; empty for an unconditional one. */
  std::string probe;
  /** "attaches", "fails" (the probe's answer it applies to) or "always". */
  std::string when;
  std::string prog;
  std::string instead;
  std::string reason;
};

struct Probe {
  std::string id;
  bool fexit = false;
  std::string func;
};

struct Plan {
  std::vector<std::pair<std::string, bool>> autoload;
  std::vector<std::pair<std::string, unsigned>> maxEntries;
  std::vector<std::pair<std::string, std::string>> initialValues;  // section → raw bytes
  std::vector<Probe> probes;
  std::vector<TurnOff> turnOffs;
  int repeat = 0;
  std::vector<std::string> command;
};

/** Reads the plan; on a malformed line returns false with `error` saying which. */
bool ReadPlan(const std::string& path, Plan& plan, std::string& error);

}  // namespace lab
