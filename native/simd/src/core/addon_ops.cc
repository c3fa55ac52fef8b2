// N-API bindings of the row operations (SiLU·mul, RMSNorm, RoPE, f32 → half; typed in
// src/engine/native/addonTypes.ts), registered by core/addon.cc.
#include "core/addon_ops.h"

#include "core/addon_args.h"
#include "core/engine.h"

namespace ls {
namespace addon {
namespace {

// siluMul(gate: Float32Array, up: Float32Array, n, rows)
Napi::Value SiluMul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t n, rows;
  if (!arrayArgs(info, "siluMul", {{0, napi_float32_array, "gate"}, {1, napi_float32_array, "up"}}) ||
      !integerArgs(info, {{2, "n", &n}, {3, "rows", &rows}})) {
    return env.Undefined();
  }
  Napi::Float32Array gate = info[0].As<Napi::Float32Array>();
  Napi::Float32Array up = info[1].As<Napi::Float32Array>();
  const ls::Status status = ls::engineSiluMul(gate.Data(), gate.ElementLength(), up.Data(), up.ElementLength(), n, rows);
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

// rmsNorm(out: Float32Array, x: Float32Array, weight: Float32Array, n, nTokens, eps)
Napi::Value RmsNorm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (size_t i = 0; i < 3; i++) {
    if (!isTypedArrayOf(info[i], napi_float32_array)) { throwTypeError(env, "rmsNorm: out, x and weight must be Float32Arrays"); return env.Undefined(); }
  }
  int64_t n, nTokens;
  if (!integerArgs(info, {{3, "n", &n}, {4, "nTokens", &nTokens}})) return env.Undefined();
  if (!info[5].IsNumber()) { throwTypeError(env, "rmsNorm: eps must be a number"); return env.Undefined(); }
  const double eps = info[5].As<Napi::Number>().DoubleValue();
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  Napi::Float32Array x = info[1].As<Napi::Float32Array>();
  Napi::Float32Array weight = info[2].As<Napi::Float32Array>();
  const ls::Status status = ls::engineRmsNorm(out.Data(), out.ElementLength(), x.Data(), x.ElementLength(), weight.Data(),
                                              weight.ElementLength(), n, nTokens, eps);
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

// rope(x: Float32Array, xOffset, nTokens, tokenStride, nHeads, headDim, cosSin: Float32Array, nRot, neox: boolean)
Napi::Value Rope(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t xOffset, nTokens, tokenStride, nHeads, headDim, nRot;
  if (!arrayArgs(info, "rope", {{0, napi_float32_array, "x"}, {6, napi_float32_array, "cosSin"}}) ||
      !integerArgs(info, {{1, "xOffset", &xOffset}, {2, "nTokens", &nTokens}, {3, "tokenStride", &tokenStride}, {4, "nHeads", &nHeads},
                          {5, "headDim", &headDim}, {7, "nRot", &nRot}})) {
    return env.Undefined();
  }
  if (!info[8].IsBoolean()) { throwTypeError(env, "rope: neox must be a boolean"); return env.Undefined(); }
  Napi::Float32Array x = info[0].As<Napi::Float32Array>();
  Napi::Float32Array cosSin = info[6].As<Napi::Float32Array>();
  if (static_cast<uint64_t>(xOffset) > x.ElementLength()) {
    throwError(env, ls::Status{"SHAPE_MISMATCH", "rope: xOffset is past the end of x"});
    return env.Undefined();
  }
  const ls::Status status = ls::engineRope(x.Data() + xOffset, x.ElementLength() - xOffset, nTokens, tokenStride, nHeads, headDim,
                                           cosSin.Data(), cosSin.ElementLength(), nRot, info[8].As<Napi::Boolean>().Value());
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

// toHalf(src: Float32Array, dst: Uint16Array, dstOffset)
Napi::Value ToHalf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t dstOffset;
  if (!arrayArgs(info, "toHalf", {{0, napi_float32_array, "src"}, {1, napi_uint16_array, "dst"}}) || !integerArgs(info, {{2, "dstOffset", &dstOffset}})) {
    return env.Undefined();
  }
  Napi::Float32Array src = info[0].As<Napi::Float32Array>();
  Napi::Uint16Array dst = info[1].As<Napi::Uint16Array>();
  const ls::Status status = ls::engineToHalf(dst.Data(), dst.ElementLength(), dstOffset, src.Data(), src.ElementLength());
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

}  // namespace

void registerRowOps(Napi::Env env, Napi::Object exports) {
  exports.Set("siluMul", Napi::Function::New(env, SiluMul, "siluMul"));
  exports.Set("rmsNorm", Napi::Function::New(env, RmsNorm, "rmsNorm"));
  exports.Set("rope", Napi::Function::New(env, Rope, "rope"));
  exports.Set("toHalf", Napi::Function::New(env, ToHalf, "toHalf"));
}

}  // namespace addon
}  // namespace ls
