// The row operations' N-API bindings (core/addon_ops.cc).
#pragma once

#include <napi.h>

namespace ls {
namespace addon {

/** Adds siluMul, rmsNorm, rope and toHalf to the addon's exports. */
void registerRowOps(Napi::Env env, Napi::Object exports);

}  // namespace addon
}  // namespace ls
