// Argument checks and errors shared by the addon's N-API bindings (core/addon.cc, core/addon_ops.cc):
// a wrong type or range throws a TypeError / RangeError with a `code`, named after the argument.
#pragma once

#include <napi.h>

#include <initializer_list>
#include <string>

#include "core/engine.h"

namespace ls {
namespace addon {

inline Napi::Error makeError(Napi::Env env, const ls::Status& status) {
  Napi::Error error = status.code == "INVALID_ARGUMENT" || status.code == "SHAPE_MISMATCH"
                          ? Napi::RangeError::New(env, status.message)
                          : Napi::Error::New(env, status.message);
  error.Set("code", Napi::String::New(env, status.code));
  return error;
}

inline void throwError(Napi::Env env, const ls::Status& status) { makeError(env, status).ThrowAsJavaScriptException(); }

inline void throwTypeError(Napi::Env env, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, "INVALID_ARGUMENT"));
  error.ThrowAsJavaScriptException();
}

inline bool isTypedArrayOf(const Napi::Value& value, napi_typedarray_type type) {
  return value.IsTypedArray() && value.As<Napi::TypedArray>().TypedArrayType() == type;
}

/** A non-negative integer argument that fits in int64 exactly (a JS number ≤ 2^53). */
inline bool integerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t* out) {
  if (!info[index].IsNumber()) {
    throwTypeError(info.Env(), std::string(name) + " must be a number");
    return false;
  }
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= 0 && value <= 9007199254740991.0) || value != static_cast<double>(static_cast<int64_t>(value))) {
    throwTypeError(info.Env(), std::string(name) + " must be a non-negative integer");
    return false;
  }
  *out = static_cast<int64_t>(value);
  return true;
}

struct IntegerArg {
  size_t index;
  const char* name;
  int64_t* out;
};

/** integerArg for each; false after throwing for the first that is not one. */
inline bool integerArgs(const Napi::CallbackInfo& info, std::initializer_list<IntegerArg> args) {
  for (const IntegerArg& arg : args) {
    if (!integerArg(info, arg.index, arg.name, arg.out)) return false;
  }
  return true;
}

struct ArrayArg {
  size_t index;
  napi_typedarray_type type;
  const char* name;
};

/** Each argument must be a typed array of its type; else a TypeError "<fn>: <name> must be a Float32Array". */
inline bool arrayArgs(const Napi::CallbackInfo& info, const char* fn, std::initializer_list<ArrayArg> args) {
  for (const ArrayArg& arg : args) {
    if (isTypedArrayOf(info[arg.index], arg.type)) continue;
    const char* typeName = arg.type == napi_float32_array ? "Float32Array" : arg.type == napi_uint16_array ? "Uint16Array" : "Uint8Array";
    throwTypeError(info.Env(), std::string(fn) + ": " + arg.name + " must be a " + typeName);
    return false;
  }
  return true;
}

}  // namespace addon
}  // namespace ls
