#include "libbpf-log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace lbc {

// Only the main thread calls into libbpf, but thread_local keeps a stray worker from
// writing into another call's buffer.
static thread_local LibbpfLogCapture* current = nullptr;

int PrintToCapture(int level, const char* format, va_list args) {
  static const bool debug = std::getenv("LBC_LIBBPF_DEBUG") != nullptr;
  if (debug) {
    va_list copy;
    va_copy(copy, args);
    std::vfprintf(stderr, format, copy);
    va_end(copy);
  }
  if (level == LIBBPF_DEBUG) return 0;
  if (current == nullptr) {
    // Outside a call (buffer consumption): warnings still deserve to be seen.
    if (!debug && level == LIBBPF_WARN) std::vfprintf(stderr, format, args);
    return 0;
  }
  char chunk[1024];
  va_list copy;
  va_copy(copy, args);
  int needed = std::vsnprintf(chunk, sizeof chunk, format, copy);
  va_end(copy);
  if (needed < 0) return 0;
  if (static_cast<size_t>(needed) < sizeof chunk) {
    current->text_.append(chunk, needed);
  } else {
    // The verifier log arrives as one huge "%s": format it at full size.
    std::string big(static_cast<size_t>(needed) + 1, '\0');
    std::vsnprintf(big.data(), big.size(), format, args);
    big.resize(needed);
    current->text_ += big;
  }
  return 0;
}

static int Printer(enum libbpf_print_level level, const char* format, va_list args) {
  return PrintToCapture(level, format, args);
}

void InstallLibbpfPrinter() { libbpf_set_print(Printer); }

LibbpfLogCapture::LibbpfLogCapture() : previous_(current) { current = this; }

LibbpfLogCapture::~LibbpfLogCapture() {
  current = previous_;
  // A nested capture's text belongs to the enclosing call too.
  if (previous_ != nullptr) previous_->text_ += text_;
}

}  // namespace lbc
