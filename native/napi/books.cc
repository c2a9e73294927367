// Placeholder until this area's bindings land: registers nothing.
#include "napi/exports.h"

namespace cmm::napi {
void InitBooks(Napi::Env env, Napi::Object exports) {}
}  // namespace cmm::napi
