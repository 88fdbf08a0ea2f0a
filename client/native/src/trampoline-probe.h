// Can a fentry/fexit program attach to this kernel function? Asked the way libbpf-tools'
// fentry_can_attach does, and one step further (the attach too). Plain C++ without N-API: the
// addon (kernel-probe.cc) and the kernel lab's guest runner compile this same file, so the twin
// choice `lbc verify` reports is the one the client makes.
#pragma once
#include <string>

namespace lbc {

struct TrampolineAnswer {
  bool ok = false;
  /** Positive errno of the step that failed, 0 when ok. */
  int err = 0;
  /** Which step failed, in words (empty when ok). */
  std::string reason;
};

TrampolineAnswer ProbeTrampolineAttach(const std::string& func, bool fexit);

}  // namespace lbc
