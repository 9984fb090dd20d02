// DeskcastError → JS error (message + `code`), shared by the N-API bindings.
#pragma once

#include <napi.h>

#include "common/errors.h"

namespace deskcast {

inline Napi::Error toJsError(Napi::Env env, const DeskcastError& e) {
  Napi::Error error = Napi::Error::New(env, e.what());
  error.Set("code", e.code());
  return error;
}

[[noreturn]] inline void throwJs(Napi::Env env, const DeskcastError& e) { throw toJsError(env, e); }

}  // namespace deskcast
