// N-API surface of layerstream_simd (typed in src/engine/native/addonTypes.ts): flat synchronous
// functions over typed arrays and numbers, writing into caller-owned buffers.
#include <napi.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>

#include "core/addon_args.h"
#include "core/addon_ops.h"
#include "core/engine.h"
#include "core/weight_memory.h"
#include "generic/pack.h"
#include "core/file_advice.h"
#include "generic/kernels.h"

namespace {

using namespace ls::addon;

Napi::Value Capabilities(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ls::Capabilities caps = ls::engineCapabilities();
  Napi::Object result = Napi::Object::New(env);
  result.Set("isa", Napi::String::New(env, ls::isaName(caps.isa)));
  result.Set("threads", Napi::Number::New(env, caps.threads));
  result.Set("spinMicros", Napi::Number::New(env, caps.spinMicros));
  result.Set("compiler", Napi::String::New(env, caps.compiler));
  Napi::Array available = Napi::Array::New(env);
  uint32_t n = 0;
  for (ls::Isa isa : {ls::Isa::Avx512, ls::Isa::Avx2, ls::Isa::Neon, ls::Isa::Scalar}) {
    if (caps.available[static_cast<int>(isa)]) available.Set(n++, Napi::String::New(env, ls::isaName(isa)));
  }
  result.Set("availableIsas", available);
  return result;
}

// setThreads(nThreads, spinMicros?)
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  int64_t n = 0;
  int64_t spin = -1;
  if (!integerArg(info, 0, "nThreads", &n)) return info.Env().Undefined();
  if (info.Length() > 1 && !info[1].IsUndefined() && !integerArg(info, 1, "spinMicros", &spin)) return info.Env().Undefined();
  const ls::Status status = ls::engineSetThreads(n > 1024 ? 1025 : static_cast<int>(n), spin > 1000000 ? 1000001 : static_cast<int>(spin));
  if (!status.ok()) throwError(info.Env(), status);
  return info.Env().Undefined();
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) {
    throwTypeError(info.Env(), "setIsa: isa must be a string");
    return info.Env().Undefined();
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const ls::Status status = ls::engineSetIsa(name.c_str());
  if (!status.ok()) throwError(info.Env(), status);
  return info.Env().Undefined();
}

/** The numbers of a matmul call: (out, weight, weightType, x, nCols, nRows, nTokens). */
struct MatmulArgs {
  int weightType;  // -1 for numbers no type has (the engine rejects them)
  int64_t nCols, nRows, nTokens;
};

/** Checks the arguments of matmul / matmulAsync (`name`); false after throwing a TypeError. */
bool matmulArgs(const Napi::CallbackInfo& info, const char* name, MatmulArgs* args) {
  int64_t weightType;
  if (!arrayArgs(info, name, {{0, napi_float32_array, "out"}, {1, napi_uint8_array, "weight"}, {3, napi_float32_array, "x"}}) ||
      !integerArgs(info, {{2, "weightType", &weightType}, {4, "nCols", &args->nCols}, {5, "nRows", &args->nRows}, {6, "nTokens", &args->nTokens}})) {
    return false;
  }
  args->weightType = static_cast<int>(weightType > 1000 ? -1 : weightType);
  return true;
}

// matmul(out: Float32Array, weight: Uint8Array, weightType, x: Float32Array, nCols, nRows, nTokens)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MatmulArgs args;
  if (!matmulArgs(info, "matmul", &args)) return env.Undefined();
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  Napi::Uint8Array weight = info[1].As<Napi::Uint8Array>();
  Napi::Float32Array x = info[3].As<Napi::Float32Array>();
  const ls::Status status = ls::engineMatmul(out.Data(), out.ElementLength(), weight.Data(), weight.ByteLength(), args.weightType,
                                             x.Data(), x.ElementLength(), args.nCols, args.nRows, args.nTokens);
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

/**
 * A Uint8Array of nBytes zeros in weight memory (allocateWeightMemory: 2 MiB pages where the OS
 * has them), released when the garbage collector frees the array; V8 is told of the memory, as
 * of its own ArrayBuffers. Where external buffers are refused (a sandboxed V8), an ordinary array.
 * An empty handle after throwing OUT_OF_MEMORY.
 */
Napi::Uint8Array weightArray(Napi::Env env, size_t nBytes) {
  uint8_t* memory = ls::allocateWeightMemory(nBytes);
  if (!memory) {
    throwError(env, ls::Status{"OUT_OF_MEMORY", "no memory for " + std::to_string(nBytes) + " bytes of weights"});
    return Napi::Uint8Array();
  }
  const auto release = [](napi_env releaseEnv, void* data, void* hint) {
    const size_t n = *static_cast<size_t*>(hint);
    delete static_cast<size_t*>(hint);
    ls::freeWeightMemory(static_cast<uint8_t*>(data), n);
    int64_t adjusted = 0;
    napi_adjust_external_memory(releaseEnv, -static_cast<int64_t>(n), &adjusted);
  };
  size_t* hint = new size_t(nBytes);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, memory, nBytes, release, hint, &buffer) != napi_ok) {
    delete hint;
    ls::freeWeightMemory(memory, nBytes);
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
      napi_value ignored;
      napi_get_and_clear_last_exception(env, &ignored);
    }
    return Napi::Uint8Array::New(env, nBytes);
  }
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(nBytes), &adjusted);
  return Napi::Uint8Array::New(env, nBytes, Napi::ArrayBuffer(env, buffer), 0);
}

// pack(weight: Uint8Array, weightType, nCols, nRows): the weights packed for this ISA path's
// kernel (a new Uint8Array in weight memory, as long; pass it to matmul as weightType | 0x100),
// or null where the path reads the file's order (see enginePack)
Napi::Value Pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t weightType, nCols, nRows;
  if (!arrayArgs(info, "pack", {{0, napi_uint8_array, "weight"}}) ||
      !integerArgs(info, {{1, "weightType", &weightType}, {2, "nCols", &nCols}, {3, "nRows", &nRows}})) {
    return env.Undefined();
  }
  Napi::Uint8Array weight = info[0].As<Napi::Uint8Array>();
  const int type = static_cast<int>(weightType > 1000 || weightType < 0 ? -1 : weightType);
  if (!ls::enginePacks(type, nCols, nRows)) return env.Null();
  Napi::Uint8Array packed = weightArray(env, weight.ByteLength());
  if (packed.IsEmpty()) return env.Undefined();
  bool done = false;
  const ls::Status status = ls::enginePack(weight.Data(), weight.ByteLength(), packed.Data(), packed.ByteLength(), type, nCols, nRows, &done);
  if (!status.ok()) {
    throwError(env, status);
    return env.Undefined();
  }
  return done ? static_cast<Napi::Value>(packed) : env.Null();
}

// residentCopy(weight: Uint8Array): a copy of the bytes, as they are, in weight memory (for
// weights whose kernel reads the file's order: see weightArray)
Napi::Value ResidentCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!arrayArgs(info, "residentCopy", {{0, napi_uint8_array, "weight"}})) return env.Undefined();
  Napi::Uint8Array weight = info[0].As<Napi::Uint8Array>();
  Napi::Uint8Array copy = weightArray(env, weight.ByteLength());
  if (copy.IsEmpty()) return env.Undefined();
  if (weight.ByteLength() > 0) std::memcpy(copy.Data(), weight.Data(), weight.ByteLength());
  return copy;
}

// route(weightType, nCols, nRows, nTokens): { batched, single, nBatched } (see engineRoute)
Napi::Value Route(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t weightType, nCols, nRows, nTokens;
  if (!integerArgs(info, {{0, "weightType", &weightType}, {1, "nCols", &nCols}, {2, "nRows", &nRows}, {3, "nTokens", &nTokens}})) {
    return env.Undefined();
  }
  ls::Route route{};
  const ls::Status status = ls::engineRoute(static_cast<int>(weightType > 1000 ? -1 : weightType), nCols, nRows, nTokens, &route);
  if (!status.ok()) {
    throwError(env, status);
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("batched", Napi::String::New(env, ls::arithName(route.batched)));
  result.Set("single", Napi::String::New(env, ls::arithName(route.single)));
  result.Set("nBatched", Napi::Number::New(env, static_cast<double>(route.nBatched)));
  return result;
}

/**
 * matmulAsync: the same computation as Matmul on a libuv worker thread (which then drives the
 * pool as its worker 0), settling a promise on the JS thread. Holds references to the three
 * buffers until then. For measuring what an asynchronous boundary costs (bench/matmulTiming.ts).
 */
class MatmulWorker : public Napi::AsyncWorker {
 public:
  MatmulWorker(Napi::Env env, Napi::Float32Array out, Napi::Uint8Array weight, int weightType, Napi::Float32Array x,
               int64_t nCols, int64_t nRows, int64_t nTokens)
      : Napi::AsyncWorker(env, "layerstream.matmulAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        outRef_(Napi::Persistent(static_cast<Napi::Object>(out))),
        weightRef_(Napi::Persistent(static_cast<Napi::Object>(weight))),
        xRef_(Napi::Persistent(static_cast<Napi::Object>(x))),
        out_(out.Data()), outLength_(out.ElementLength()), weight_(weight.Data()), weightBytes_(weight.ByteLength()),
        weightType_(weightType), x_(x.Data()), xLength_(x.ElementLength()), nCols_(nCols), nRows_(nRows), nTokens_(nTokens) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    status_ = ls::engineMatmul(out_, outLength_, weight_, weightBytes_, weightType_, x_, xLength_, nCols_, nRows_, nTokens_);
  }

  void OnOK() override {
    if (status_.ok()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(makeError(Env(), status_).Value());
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference outRef_, weightRef_, xRef_;
  float* out_;
  size_t outLength_;
  const uint8_t* weight_;
  size_t weightBytes_;
  int weightType_;
  const float* x_;
  size_t xLength_;
  int64_t nCols_, nRows_, nTokens_;
  ls::Status status_;
};

// matmulAsync(out, weight, weightType, x, nCols, nRows, nTokens): Promise<void>
Napi::Value MatmulAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MatmulArgs args;
  if (!matmulArgs(info, "matmulAsync", &args)) return env.Undefined();
  MatmulWorker* worker = new MatmulWorker(env, info[0].As<Napi::Float32Array>(), info[1].As<Napi::Uint8Array>(), args.weightType,
                                          info[3].As<Napi::Float32Array>(), args.nCols, args.nRows, args.nTokens);
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // deleted by node-addon-api after OnOK / OnError
  return promise;
}

// attention(out: Float32Array, q: Float32Array, keys: Uint16Array, values: Uint16Array, position,
//           nTokens, nHead, nHeadKv, headDim, maxPositions): boolean (true: out written; false: declined)
Napi::Value Attention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t position, nTokens, nHead, nHeadKv, headDim, maxPositions;
  if (!arrayArgs(info, "attention", {{0, napi_float32_array, "out"}, {1, napi_float32_array, "q"}, {2, napi_uint16_array, "keys"},
                                     {3, napi_uint16_array, "values"}}) ||
      !integerArgs(info, {{4, "position", &position}, {5, "nTokens", &nTokens}, {6, "nHead", &nHead}, {7, "nHeadKv", &nHeadKv},
                          {8, "headDim", &headDim}, {9, "maxPositions", &maxPositions}})) {
    return env.Undefined();
  }
  const int64_t limit = int64_t(1) << 31;  // keeps every product of the shape inside int64
  if (position >= limit || nTokens >= limit || nHead >= 65536 || nHeadKv >= 65536 || headDim >= 65536 || maxPositions >= limit) {
    throwError(env, ls::Status{"INVALID_ARGUMENT", "attention: shape out of range"});
    return env.Undefined();
  }
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  Napi::Float32Array q = info[1].As<Napi::Float32Array>();
  Napi::Uint16Array keys = info[2].As<Napi::Uint16Array>();
  Napi::Uint16Array values = info[3].As<Napi::Uint16Array>();
  bool computed = false;
  const ls::Status status = ls::engineAttention(out.Data(), out.ElementLength(), q.Data(), q.ElementLength(), keys.Data(),
                                                keys.ElementLength(), values.Data(), values.ElementLength(), position,
                                                nTokens, nHead, nHeadKv, headDim, maxPositions, &computed);
  if (!status.ok()) {
    throwError(env, status);
    return env.Undefined();
  }
  return Napi::Boolean::New(env, computed);
}

// flashAttention(out, q, keys, values, position, nTokens, nHead, nHeadKv, headDim, maxPositions, scale,
//                window, kvChunks): llama.cpp's CPU flash attention over an F16 cache (engineFlashAttention)
Napi::Value FlashAttention(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t position, nTokens, nHead, nHeadKv, headDim, maxPositions, window, kvChunks;
  if (!arrayArgs(info, "flashAttention", {{0, napi_float32_array, "out"}, {1, napi_float32_array, "q"}, {2, napi_uint16_array, "keys"},
                                          {3, napi_uint16_array, "values"}}) ||
      !integerArgs(info, {{4, "position", &position}, {5, "nTokens", &nTokens}, {6, "nHead", &nHead}, {7, "nHeadKv", &nHeadKv},
                          {8, "headDim", &headDim}, {9, "maxPositions", &maxPositions}, {11, "window", &window}, {12, "kvChunks", &kvChunks}})) {
    return env.Undefined();
  }
  if (!info[10].IsNumber()) { throwTypeError(env, "flashAttention: scale must be a number"); return env.Undefined(); }
  const int64_t limit = int64_t(1) << 31;  // keeps every product of the shape inside int64
  if (position >= limit || nTokens >= limit || nHead >= 65536 || nHeadKv >= 65536 || headDim >= 65536 || maxPositions >= limit || window >= limit || kvChunks >= 65536) {
    throwError(env, ls::Status{"INVALID_ARGUMENT", "flashAttention: shape out of range"});
    return env.Undefined();
  }
  Napi::Float32Array out = info[0].As<Napi::Float32Array>();
  Napi::Float32Array q = info[1].As<Napi::Float32Array>();
  Napi::Uint16Array keys = info[2].As<Napi::Uint16Array>();
  Napi::Uint16Array values = info[3].As<Napi::Uint16Array>();
  const float scale = static_cast<float>(info[10].As<Napi::Number>().DoubleValue());
  const ls::Status status = ls::engineFlashAttention(out.Data(), out.ElementLength(), q.Data(), q.ElementLength(), keys.Data(), keys.ElementLength(),
                                                     values.Data(), values.ElementLength(), position, nTokens, nHead, nHeadKv, headDim,
                                                     maxPositions, scale, window, kvChunks);
  if (!status.ok()) throwError(env, status);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  const unsigned hardwareThreads = std::thread::hardware_concurrency();
  ls::engineInit(hardwareThreads == 0 ? 1 : static_cast<int>(hardwareThreads));
  exports.Set("capabilities", Napi::Function::New(env, Capabilities, "capabilities"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("matmulAsync", Napi::Function::New(env, MatmulAsync, "matmulAsync"));
  exports.Set("route", Napi::Function::New(env, Route, "route"));
  exports.Set("pack", Napi::Function::New(env, Pack, "pack"));
  exports.Set("residentCopy", Napi::Function::New(env, ResidentCopy, "residentCopy"));
  exports.Set("attention", Napi::Function::New(env, Attention, "attention"));
  exports.Set("flashAttention", Napi::Function::New(env, FlashAttention, "flashAttention"));
  ls::addon::registerRowOps(env, exports);
  exports.Set("adviseDontNeed", Napi::Function::New(env, ls::AdviseDontNeed, "adviseDontNeed"));
  return exports;
}

}  // namespace

NODE_API_MODULE(layerstream_simd, Init)
