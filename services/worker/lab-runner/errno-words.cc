#include "errno-words.h"

#include <cerrno>
#include <cstring>

namespace lab {

// Kernel-internal errnos that reach user space from BPF calls (include/linux/errno.h).
static const char* KernelOnlyName(int err) {
  switch (err) {
    case 524: return "ENOTSUPP";
    case 525: return "ENOTSUPP_TOOSMALL";
    default: return nullptr;
  }
}

static const char* Meaning(int err, Step step) {
  if (step == Step::Load) {
    switch (err) {
      case EACCES: return "the verifier rejected the program";
      case EINVAL: return "the kernel refused the program or its attributes (see the verifier log)";
      case E2BIG: return "the program is too large for this kernel's verifier";
      case ESRCH: return "a kernel function or type the program names is not in this kernel's BTF";
      case ENOENT: return "something the program needs (a BTF type, a helper, a map) is missing on this kernel";
      case EPERM: return "not permitted (privileges, or a program type this kernel refuses)";
      case ENOTSUP:
      case 524: return "this kernel does not support the program type or attach type";
      case ENOMEM: return "out of memory (map sizes, memlock)";
      default: return "loading failed";
    }
  }
  switch (err) {
    case ENOENT: return "the kernel has no such function, tracepoint or symbol to attach to";
    case ESRCH: return "the attach target was not found";
    case ENOTSUP:
    case 524: return "this kernel cannot attach the program there (no BPF trampoline or no support for this attach kind)";
    case EINVAL: return "the kernel refused the attach (wrong target or attach type for it)";
    case EBUSY: return "the attach point is taken by another program";
    case EPERM: return "not permitted";
    case EEXIST: return "already attached there";
    default: return "attaching failed";
  }
}

std::string ErrnoWords(int err, Step step) {
  if (err < 0) err = -err;
  const char* name = KernelOnlyName(err);
  if (name == nullptr) name = strerrorname_np(err);
  std::string text = err >= 512 ? "kernel-internal error " + std::to_string(err) : std::strerror(err);
  return std::string(name ? name : ("errno " + std::to_string(err)).c_str()) + " (" + text + "): " + Meaning(err, step);
}

}  // namespace lab
