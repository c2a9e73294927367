// Hajek-MoE: implementation choice (cpuid, CMM_MOE_IMPL), RFF packing, the scalar path (double, std::cos)
// and the per-decision logic shared by all paths (finite check, h, theta, softmax, y). SIMD: hajek_simd.cc.
#include "moe/hajek.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "moe/hajek_kernels.h"

namespace cmm::moe {
namespace {

bool cpu_has(Impl impl) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (impl == Impl::kAvx2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (impl == Impl::kAvx512)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  return impl == Impl::kScalar || impl == Impl::kAuto;
}

Impl auto_impl() {
  static const Impl chosen = [] {
    const char* env = std::getenv("CMM_MOE_IMPL");
    if (env != nullptr) {
      if (std::strcmp(env, "scalar") == 0) return Impl::kScalar;
      if (std::strcmp(env, "avx2") == 0 && cpu_has(Impl::kAvx2)) return Impl::kAvx2;
      if (std::strcmp(env, "avx512") == 0 && cpu_has(Impl::kAvx512)) return Impl::kAvx512;
    }
    if (cpu_has(Impl::kAvx512)) return Impl::kAvx512;
    if (cpu_has(Impl::kAvx2)) return Impl::kAvx2;
    return Impl::kScalar;
  }();
  return chosen;
}

detail::GramFn gram_for(Impl impl) {
#if defined(__x86_64__) || defined(__i386__)
  if (impl == Impl::kAvx512) return detail::gram_avx512;
  if (impl == Impl::kAvx2) return detail::gram_avx2;
#endif
  return detail::gram_scalar;
}

inline bool all_finite(const float* v, int n) {
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(v[i])) return false;
  return true;
}

// Reused across calls on one thread: no allocation on the hot path after the first call of a given size.
struct Scratch {
  std::vector<float> phi;
  std::vector<double> g, n, h;
  std::vector<uint8_t> valid;
  void fit(int M, int Dpad) {
    if (phi.size() < static_cast<size_t>(M) * Dpad) phi.resize(static_cast<size_t>(M) * Dpad);
    if (g.size() < static_cast<size_t>(M)) {
      g.resize(M);
      n.resize(M);
      h.resize(M);
      valid.resize(M);
    }
  }
};
thread_local Scratch scratch;

}  // namespace

const char* impl_name(Impl impl) {
  switch (impl) {
    case Impl::kScalar: return "scalar";
    case Impl::kAvx2: return "avx2";
    case Impl::kAvx512: return "avx512";
    default: return "auto";
  }
}

bool impl_available(Impl impl) { return cpu_has(impl); }

Impl resolve_impl(Impl requested) { return requested == Impl::kAuto ? auto_impl() : requested; }

bool make_rff(const float* W, const float* bias, int D, int P, RffParams* out) {
  if (W == nullptr || bias == nullptr || out == nullptr || D <= 0 || P <= 0) return false;
  out->D = D;
  out->P = P;
  out->Dpad = (D + 15) / 16 * 16;
  out->Wt.assign(static_cast<size_t>(P) * out->Dpad, 0.0f);
  out->bias.assign(out->Dpad, 0.0f);
  out->scale.assign(out->Dpad, 0.0f);
  out->W64.assign(W, W + static_cast<size_t>(D) * P);
  out->bias64.assign(bias, bias + D);
  const float s = static_cast<float>(std::sqrt(2.0 / D));
  for (int i = 0; i < D; ++i) {
    for (int p = 0; p < P; ++p) out->Wt[static_cast<size_t>(p) * out->Dpad + i] = W[static_cast<size_t>(i) * P + p];
    out->bias[i] = bias[i];
    out->scale[i] = s;
  }
  return true;
}

namespace detail {

// The reference-grade fallback: phase, cos and sums in double (the SIMD paths use float and a polynomial cos).
void gram_scalar(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* /*phi*/, double* g,
                 double* n, double* s2) {
  thread_local std::vector<double> phi64, sum;
  const int D = rff.D, P = rff.P;
  if (phi64.size() < static_cast<size_t>(M) * D) phi64.resize(static_cast<size_t>(M) * D);
  sum.assign(D, 0.0);
  const double s = std::sqrt(2.0 / D);
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const float* uj = u + static_cast<size_t>(j) * P;
    double* pj = phi64.data() + static_cast<size_t>(j) * D;
    for (int i = 0; i < D; ++i) {
      double a = rff.bias64[i];
      const double* wi = rff.W64.data() + static_cast<size_t>(i) * P;
      for (int p = 0; p < P; ++p) a += wi[p] * uj[p];
      pj[i] = s * std::cos(a);
      sum[i] += pj[i];
    }
  }
  double ss = 0;
  for (int i = 0; i < D; ++i) ss += sum[i] * sum[i];
  *s2 = ss;
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const double* pj = phi64.data() + static_cast<size_t>(j) * D;
    double gj = 0, nj = 0;
    for (int i = 0; i < D; ++i) {
      gj += pj[i] * sum[i];
      nj += pj[i] * pj[i];
    }
    g[j] = gj;
    n[j] = nj;
  }
}

}  // namespace detail

int hajek_moe(const float* u, int B, int M, const RffParams& rff, float tau, float* y_out, float* w_out,
              Impl impl) {
  impl = resolve_impl(impl);
  if (u == nullptr || y_out == nullptr || B < 0 || M <= 0 || rff.D <= 0 || rff.P <= 0 || !std::isfinite(tau) ||
      !cpu_has(impl))
    return kMoeInvalidArg;
  const int P = rff.P;
  const detail::GramFn gram = gram_for(impl);
  scratch.fit(M, rff.Dpad);
  uint8_t* valid = scratch.valid.data();
  double *g = scratch.g.data(), *n = scratch.n.data(), *h = scratch.h.data();
  int flags = kMoeOk;

  for (int b = 0; b < B; ++b) {
    const float* ub = u + static_cast<size_t>(b) * M * P;
    float* wb = w_out != nullptr ? w_out + static_cast<size_t>(b) * M : nullptr;
    int nvalid = 0, last_valid = -1;
    for (int j = 0; j < M; ++j) {
      valid[j] = all_finite(ub + static_cast<size_t>(j) * P, P) ? 1 : 0;
      if (valid[j]) {
        ++nvalid;
        last_valid = j;
      }
    }
    if (nvalid < M) flags |= kMoeExpertExcluded;
    if (nvalid == 0) {
      // No finite expert: say so rather than invent a prediction.
      flags |= kMoeNoValidExpert;
      y_out[b] = std::numeric_limits<float>::quiet_NaN();
      if (wb) std::memset(wb, 0, sizeof(float) * M);
      continue;
    }
    if (nvalid == 1) {
      // One expert: weight 1, no pairs to compare (the M/(M-1) factor is undefined).
      if (wb)
        for (int j = 0; j < M; ++j) wb[j] = j == last_valid ? 1.0f : 0.0f;
      y_out[b] = ub[static_cast<size_t>(last_valid) * P + P - 1];
      continue;
    }
    double s2 = 0;
    gram(ub, valid, M, rff, scratch.phi.data(), g, n, &s2);
    const double mv = nvalid;
    double sum_n = 0;
    for (int j = 0; j < M; ++j)
      if (valid[j]) sum_n += n[j];
    const double theta = (s2 - sum_n) / (mv * (mv - 1.0));
    double hmax = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < M; ++j) {
      if (!valid[j]) continue;
      h[j] = (g[j] - n[j]) / (mv - 1.0) - theta;
      if (tau * h[j] > hmax) hmax = tau * h[j];
    }
    double z = 0;
    for (int j = 0; j < M; ++j) {
      if (!valid[j]) continue;
      // h now holds the unnormalised weight. The exponent is <= 0 and h is only float-accurate, so expf
      // (1 ulp) loses nothing that matters and costs a third of a double exp.
      h[j] = std::exp(static_cast<float>(tau * h[j] - hmax));
      z += h[j];
    }
    double y = 0;
    for (int j = 0; j < M; ++j) {
      const double wj = valid[j] ? h[j] / z : 0.0;
      if (wb) wb[j] = static_cast<float>(wj);
      if (valid[j]) y += wj * ub[static_cast<size_t>(j) * P + P - 1];
    }
    if (!std::isfinite(y)) {
      // Only reachable with |u| near FLT_MAX (the phase overflows): treat as no usable expert.
      flags |= kMoeNoValidExpert;
      y = std::numeric_limits<double>::quiet_NaN();
      if (wb) std::memset(wb, 0, sizeof(float) * M);
    }
    y_out[b] = static_cast<float>(y);
  }
  return flags;
}

}  // namespace cmm::moe
