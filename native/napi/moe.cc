// Bindings for the Hajek-MoE kernels (native/moe) and the fused student bank (native/student):
// hajekMoe(), moeImplementation(), moeImplementations() and the StudentBank class. TS face: src/moe/.
#include <napi.h>

#include <string>
#include <vector>

#include "moe/hajek.h"
#include "napi/exports.h"
#include "student/mlp.h"

namespace cmm::napi {
namespace {

bool IsF32(const Napi::Value& v) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
}

Napi::Float32Array F32Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !IsF32(info[i]))
    throw Napi::TypeError::New(info.Env(), std::string("expected a Float32Array for ") + what);
  return info[i].As<Napi::Float32Array>();
}

int IntArg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (i >= info.Length() || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string("expected an integer for ") + what);
  return info[i].As<Napi::Number>().Int32Value();
}

moe::Impl MoeImplArg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return moe::Impl::kAuto;
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "auto") return moe::Impl::kAuto;
  if (s == "scalar") return moe::Impl::kScalar;
  if (s == "avx2") return moe::Impl::kAvx2;
  if (s == "avx512") return moe::Impl::kAvx512;
  throw Napi::TypeError::New(env, "expected 'auto', 'avx512', 'avx2' or 'scalar' for impl");
}

student::Impl StudentImplArg(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return student::Impl::kAuto;
  const std::string s = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (s == "auto" || s == "avx512") return student::Impl::kAuto;  // no AVX-512 student path: best available
  if (s == "scalar") return student::Impl::kScalar;
  if (s == "avx2") return student::Impl::kAvx2;
  throw Napi::TypeError::New(env, "expected 'auto', 'avx512', 'avx2' or 'scalar' for impl");
}

// hajekMoe(u, B, M, P, W, b, D, tau, yOut, wOut|null, impl?) -> MoeFlag bits (64: invalid arguments).
Napi::Value HajekMoe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto u = F32Arg(info, 0, "u");
  const int B = IntArg(info, 1, "B"), M = IntArg(info, 2, "M"), P = IntArg(info, 3, "dPlus1");
  auto W = F32Arg(info, 4, "W");
  auto bias = F32Arg(info, 5, "b");
  const int D = IntArg(info, 6, "D");
  if (info.Length() < 8 || !info[7].IsNumber()) throw Napi::TypeError::New(env, "expected a number for tau");
  const float tau = info[7].As<Napi::Number>().FloatValue();
  auto y = F32Arg(info, 8, "yOut");
  float* w = nullptr;
  size_t w_len = 0;
  if (info.Length() > 9 && !info[9].IsNull() && !info[9].IsUndefined()) {
    auto wa = F32Arg(info, 9, "wOut");
    w = wa.Data();
    w_len = wa.ElementLength();
  }
  const moe::Impl impl = MoeImplArg(env, info.Length() > 10 ? info[10] : env.Undefined());
  const size_t need_u = static_cast<size_t>(B) * M * P;
  if (B < 0 || M <= 0 || P <= 0 || D <= 0 || u.ElementLength() < need_u ||
      W.ElementLength() < static_cast<size_t>(D) * P || bias.ElementLength() < static_cast<size_t>(D) ||
      y.ElementLength() < static_cast<size_t>(B) || (w != nullptr && w_len < static_cast<size_t>(B) * M))
    return Napi::Number::New(env, moe::kMoeInvalidArg);
  thread_local moe::RffParams rff;  // reused: no allocation after the first call of a given size
  moe::make_rff(W.Data(), bias.Data(), D, P, &rff);
  return Napi::Number::New(env, moe::hajek_moe(u.Data(), B, M, rff, tau, y.Data(), w, impl));
}

Napi::Value MoeImplementation(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), moe::impl_name(moe::resolve_impl(moe::Impl::kAuto)));
}

Napi::Value MoeImplementations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (moe::Impl i : {moe::Impl::kAvx512, moe::Impl::kAvx2, moe::Impl::kScalar})
    if (moe::impl_available(i)) out.Set(n++, Napi::String::New(env, moe::impl_name(i)));
  return out;
}

class StudentBankWrap : public Napi::ObjectWrap<StudentBankWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "StudentBank",
                       {InstanceMethod<&StudentBankWrap::Run>("run"),
                        InstanceMethod<&StudentBankWrap::RunBatch>("runBatch"),
                        InstanceAccessor<&StudentBankWrap::OutSize>("outSize"),
                        InstanceAccessor<&StudentBankWrap::Implementation>("implementation")});
  }

  // new StudentBank({students, inputs, hidden, outputs, activation, normalize, weights, impl?,
  //                  moe?: {tasks, D, W, b, tau, impl?}}). Validated in TS; here only what C++ needs.
  explicit StudentBankWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<StudentBankWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "expected a spec object");
    Napi::Object spec = info[0].As<Napi::Object>();
    auto num = [&](const char* key) {
      Napi::Value v = spec.Get(key);
      if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("expected a number for ") + key);
      return v.As<Napi::Number>().Int32Value();
    };
    student::BankShape shape;
    shape.students = num("students");
    shape.inputs = num("inputs");
    shape.outputs = num("outputs");
    Napi::Value hidden = spec.Get("hidden");
    if (!hidden.IsArray()) throw Napi::TypeError::New(env, "expected an array for hidden");
    Napi::Array ha = hidden.As<Napi::Array>();
    for (uint32_t i = 0; i < ha.Length(); ++i) {
      Napi::Value h = ha.Get(i);
      if (!h.IsNumber()) throw Napi::TypeError::New(env, "expected numbers in hidden");
      shape.hidden.push_back(h.As<Napi::Number>().Int32Value());
    }
    const std::string act = spec.Get("activation").IsString() ? spec.Get("activation").As<Napi::String>().Utf8Value() : "";
    if (act == "tanh") shape.activation = student::Activation::kTanh;
    else if (act == "relu") shape.activation = student::Activation::kRelu;
    else if (act == "gelu") shape.activation = student::Activation::kGeluErf;
    else if (act == "identity") shape.activation = student::Activation::kIdentity;
    else throw Napi::TypeError::New(env, "expected 'tanh', 'relu', 'gelu' or 'identity' for activation");
    shape.normalize = spec.Get("normalize").ToBoolean().Value();
    Napi::Value weights = spec.Get("weights");
    if (!IsF32(weights)) throw Napi::TypeError::New(env, "expected a Float32Array for weights");
    auto wa = weights.As<Napi::Float32Array>();
    std::string error;
    if (!bank_.load(shape, wa.Data(), wa.ElementLength(), StudentImplArg(env, spec.Get("impl")), &error))
      throw Napi::Error::New(env, error);
    Napi::Value moe_v = spec.Get("moe");
    if (moe_v.IsUndefined() || moe_v.IsNull()) return;
    if (!moe_v.IsObject()) throw Napi::TypeError::New(env, "expected an object for moe");
    Napi::Object m = moe_v.As<Napi::Object>();
    const int K = m.Get("tasks").As<Napi::Number>().Int32Value();
    const int D = m.Get("D").As<Napi::Number>().Int32Value();
    if (!IsF32(m.Get("W")) || !IsF32(m.Get("b")) || !IsF32(m.Get("tau")))
      throw Napi::TypeError::New(env, "expected Float32Arrays for moe.W, moe.b and moe.tau");
    auto W = m.Get("W").As<Napi::Float32Array>();
    auto b = m.Get("b").As<Napi::Float32Array>();
    auto tau = m.Get("tau").As<Napi::Float32Array>();
    const int P = shape.outputs;
    if (K <= 0 || D <= 0 || W.ElementLength() != static_cast<size_t>(K) * D * P ||
        b.ElementLength() != static_cast<size_t>(K) * D || tau.ElementLength() != static_cast<size_t>(K))
      throw Napi::Error::New(env, "expected moe.W of tasks*D*outputs, moe.b of tasks*D and moe.tau of tasks floats");
    std::vector<moe::RffParams> rff(K);
    for (int k = 0; k < K; ++k)
      moe::make_rff(W.Data() + static_cast<size_t>(k) * D * P, b.Data() + static_cast<size_t>(k) * D, D, P, &rff[k]);
    std::vector<float> taus(tau.Data(), tau.Data() + K);
    if (!bank_.set_moe(K, std::move(rff), std::move(taus), MoeImplArg(env, m.Get("impl")), &error))
      throw Napi::Error::New(env, error);
  }

 private:
  // run(x, out) -> MoeFlag bits; 64 when x or out is too short (nothing written).
  Napi::Value Run(const Napi::CallbackInfo& info) {
    auto x = F32Arg(info, 0, "x");
    auto out = F32Arg(info, 1, "out");
    if (x.ElementLength() < static_cast<size_t>(bank_.shape().inputs) || out.ElementLength() < bank_.out_size())
      return Napi::Number::New(info.Env(), moe::kMoeInvalidArg);
    return Napi::Number::New(info.Env(), bank_.run(x.Data(), out.Data()));
  }

  // runBatch(x, B, out): x is B x inputs, out is B x outSize.
  Napi::Value RunBatch(const Napi::CallbackInfo& info) {
    auto x = F32Arg(info, 0, "x");
    const int B = IntArg(info, 1, "B");
    auto out = F32Arg(info, 2, "out");
    if (B < 0 || x.ElementLength() < static_cast<size_t>(B) * bank_.shape().inputs ||
        out.ElementLength() < static_cast<size_t>(B) * bank_.out_size())
      return Napi::Number::New(info.Env(), moe::kMoeInvalidArg);
    return Napi::Number::New(info.Env(), bank_.run_batch(x.Data(), B, out.Data()));
  }

  Napi::Value OutSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(bank_.out_size()));
  }

  Napi::Value Implementation(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("students", student::impl_name(bank_.impl()));
    o.Set("moe", bank_.tasks() > 0 ? moe::impl_name(bank_.moe_impl()) : "none");
    return o;
  }

  student::StudentBank bank_;
};

}  // namespace

void InitMoe(Napi::Env env, Napi::Object exports) {
  exports.Set("hajekMoe", Napi::Function::New(env, HajekMoe, "hajekMoe"));
  exports.Set("moeImplementation", Napi::Function::New(env, MoeImplementation, "moeImplementation"));
  exports.Set("moeImplementations", Napi::Function::New(env, MoeImplementations, "moeImplementations"));
  exports.Set("StudentBank", StudentBankWrap::Define(env));
}

}  // namespace cmm::napi
