// Core exports: build info, CPU features the kernels dispatch on, and CRC32C over a typed array.
#include <napi.h>

#include "core/crc32c.h"
#include "core/event.h"
#include "napi/exports.h"

namespace cmm::napi {
namespace {

Napi::Value Crc32c(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    Napi::TypeError::New(env, "expected a Uint8Array for data").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto arr = info[0].As<Napi::TypedArray>();
  const uint8_t* p = static_cast<const uint8_t*>(arr.ArrayBuffer().Data()) + arr.ByteOffset();
  uint32_t seed = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
  return Napi::Number::New(env, crc32c(p, arr.ByteLength(), seed));
}

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__x86_64__)
  __builtin_cpu_init();
  o.Set("sse42", Napi::Boolean::New(env, __builtin_cpu_supports("sse4.2")));
  o.Set("avx2", Napi::Boolean::New(env, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")));
  o.Set("avx512f", Napi::Boolean::New(env, __builtin_cpu_supports("avx512f")));
#else
  o.Set("sse42", Napi::Boolean::New(env, false));
  o.Set("avx2", Napi::Boolean::New(env, false));
  o.Set("avx512f", Napi::Boolean::New(env, false));
#endif
  o.Set("crc32cHardware", Napi::Boolean::New(env, crc32c_hardware()));
  return o;
}

// Field offsets of the C++ Event struct, so a test can pin them to the TS offsets and the schema.
Napi::Value EventLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", sizeof(Event));
  o.Set("tsExchange", offsetof(Event, ts_exchange));
  o.Set("tsLocal", offsetof(Event, ts_local));
  o.Set("price", offsetof(Event, price));
  o.Set("qty", offsetof(Event, qty));
  o.Set("orderId", offsetof(Event, order_id));
  o.Set("seq", offsetof(Event, seq));
  o.Set("prevSeq", offsetof(Event, prev_seq));
  o.Set("instrument", offsetof(Event, instrument));
  o.Set("kind", offsetof(Event, kind));
  o.Set("side", offsetof(Event, side));
  o.Set("flags", offsetof(Event, flags));
  return o;
}

}  // namespace

void InitCore(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  exports.Set("eventSize", Napi::Number::New(env, 64));
  exports.Set("crc32c", Napi::Function::New(env, Crc32c, "crc32c"));
  exports.Set("eventLayout", Napi::Function::New(env, EventLayout, "eventLayout"));
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures, "cpuFeatures"));
}

}  // namespace cmm::napi
