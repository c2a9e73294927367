// One Init function per native area; each lives in native/napi/<area>.cc and adds its exports.
#pragma once
#include <napi.h>

namespace cmm::napi {
void InitCore(Napi::Env env, Napi::Object exports);    // napi/core.cc: version, cpu features, crc32c
void InitBooks(Napi::Env env, Napi::Object exports);   // napi/books.cc: L2Book, L3Book classes
void InitMarket(Napi::Env env, Napi::Object exports);  // napi/market.cc: MarketEngine (books + features per batch)
void InitLog(Napi::Env env, Napi::Object exports);     // napi/log.cc: frame decoder/verifier
void InitMoe(Napi::Env env, Napi::Object exports);     // napi/moe.cc: Hajek-MoE kernels, fused students
}  // namespace cmm::napi
