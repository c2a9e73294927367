// Module entry: registers every native class and function. One init per folder keeps this file short.
#include <napi.h>

#include "napi/exports.h"

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
  cmm::napi::InitCore(env, exports);
  cmm::napi::InitBooks(env, exports);
  cmm::napi::InitMarket(env, exports);
  cmm::napi::InitLog(env, exports);
  cmm::napi::InitMoe(env, exports);
  return exports;
}

NODE_API_MODULE(cmm_native, InitAll)
