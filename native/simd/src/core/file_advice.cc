// adviseDontNeed(fd, offset, length): posix_fadvise(POSIX_FADV_DONTNEED) on a byte range of an
// open file. The layer streamer calls it after copying a block into its own buffer, so the
// kernel's page cache does not hold a second copy of layers the budget has already accounted
// for (and a streamed layer is read from the disk again, as it would be for a model larger than
// RAM). Returns false where the call is unavailable (not POSIX) or fails; never throws for that.
#include <napi.h>

#include <cstdint>

#if defined(__linux__) || defined(__FreeBSD__)
#include <fcntl.h>
#define LS_HAVE_FADVISE 1
#endif

#include "core/file_advice.h"

namespace ls {

Napi::Value AdviseDontNeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (int i = 0; i < 3; i++) {
    if (!info[i].IsNumber()) {
      Napi::TypeError error = Napi::TypeError::New(env, "adviseDontNeed(fd, offset, length): arguments must be numbers");
      error.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
      error.ThrowAsJavaScriptException();
      return env.Undefined();
    }
  }
  const int64_t fd = info[0].As<Napi::Number>().Int64Value();
  const int64_t offset = info[1].As<Napi::Number>().Int64Value();
  const int64_t length = info[2].As<Napi::Number>().Int64Value();
  if (fd < 0 || offset < 0 || length < 0) return Napi::Boolean::New(env, false);
#ifdef LS_HAVE_FADVISE
  return Napi::Boolean::New(env, posix_fadvise(static_cast<int>(fd), static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_DONTNEED) == 0);
#else
  return Napi::Boolean::New(env, false);
#endif
}

}  // namespace ls
