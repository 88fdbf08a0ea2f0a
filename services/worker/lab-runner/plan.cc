#include "plan.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lab {

static std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, '\t')) out.push_back(field);
  return out;
}

static bool FromHex(const std::string& hex, std::string& bytes) {
  if (hex.size() % 2) return false;
  bytes.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    char* end = nullptr;
    std::string pair = hex.substr(i, 2);
    long v = std::strtol(pair.c_str(), &end, 16);
    if (*end) return false;
    bytes.push_back(static_cast<char>(v));
  }
  return true;
}

bool ReadPlan(const std::string& path, Plan& plan, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read the plan " + path;
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    number++;
    if (line.empty()) continue;
    auto f = Fields(line);
    const std::string& op = f[0];
    bool ok = true;
    if (op == "autoload" && f.size() == 3) {
      plan.autoload.emplace_back(f[1], f[2] == "1");
    } else if (op == "max_entries" && f.size() == 3) {
      plan.maxEntries.emplace_back(f[1], static_cast<unsigned>(std::strtoul(f[2].c_str(), nullptr, 10)));
    } else if (op == "initial_value" && f.size() == 3) {
      std::string bytes;
      ok = FromHex(f[2], bytes);
      plan.initialValues.emplace_back(f[1], bytes);
    } else if (op == "probe" && f.size() == 4) {
      plan.probes.push_back({f[1], f[2] == "fexit", f[3]});
    } else if (op == "turn_off" && f.size() == 6) {
      plan.turnOffs.push_back({f[1] == "-" ? "" : f[1], f[2], f[3], f[4], f[5]});
    } else if (op == "workload" && f.size() >= 3) {
      plan.repeat = std::atoi(f[1].c_str());
      plan.command.assign(f.begin() + 2, f.end());
    } else {
      ok = false;
    }
    if (!ok) {
      error = "plan line " + std::to_string(number) + " is malformed: " + line.substr(0, 80);
      return false;
    }
  }
  return true;
}

}  // namespace lab
