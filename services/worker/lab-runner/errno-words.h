// An errno as the verdict states it: its name, libc's text, and what it usually means at the step
// that failed (load or attach), so that a verdict reads without a kernel source at hand.
#pragma once
#include <string>

namespace lab {

enum class Step { Load, Attach };

std::string ErrnoWords(int err, Step step);

}  // namespace lab
