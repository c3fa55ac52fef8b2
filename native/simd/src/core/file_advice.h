#pragma once
#include <napi.h>

namespace ls {
// adviseDontNeed(fd: number, offset: number, length: number): boolean — see file_advice.cc
Napi::Value AdviseDontNeed(const Napi::CallbackInfo& info);
}  // namespace ls
