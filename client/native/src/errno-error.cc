#include "errno-error.h"

#include <cstring>

namespace lbc {

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& what, const std::string& log) {
  if (err < 0) err = -err;
  Napi::Error error = Napi::Error::New(env, what + ": " + std::strerror(err));
  error.Set("errno", Napi::Number::New(env, err));
  if (!log.empty()) error.Set("log", Napi::String::New(env, log));
  return error;
}

}  // namespace lbc
