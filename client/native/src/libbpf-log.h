// libbpf reports why something failed (the verifier log above all) only through its print
// callback, which is process-global. A LibbpfLogCapture collects what libbpf prints while it is
// alive, so the error thrown for one call carries that call's messages and nothing else.
#pragma once
#include <cstdarg>
#include <string>

namespace lbc {

void InstallLibbpfPrinter();

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
  const std::string& text() const { return text_; }

 private:
  friend int PrintToCapture(int level, const char* format, va_list args);
  std::string text_;
  LibbpfLogCapture* previous_;
};

}  // namespace lbc
