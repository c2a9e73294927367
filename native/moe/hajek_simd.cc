// Hajek-MoE SIMD paths: RFF phase by FMA over the transposed W (lanes = RFF features), polynomial cos
// (simd_math.h, |error| < 1e-7), Gram sums in float lanes reduced to double. Selected in hajek.cc by cpuid.
#include <vector>

#include "moe/hajek_kernels.h"
#include "moe/simd_math.h"

#if defined(CMM_HAVE_X86_SIMD)
// GCC 12 warns inside its own AVX-512 intrinsics (their _mm256_undefined_* placeholders); not our code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace cmm::moe::detail {
namespace {
thread_local std::vector<float> sum_scratch;
float* sum_buffer(int Dpad) {
  if (sum_scratch.size() < static_cast<size_t>(Dpad)) sum_scratch.resize(Dpad);
  return sum_scratch.data();
}
}  // namespace

CMM_TARGET_AVX2 void gram_avx2(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi,
                               double* g, double* n, double* s2) {
  const int P = rff.P, Dpad = rff.Dpad;
  const float* Wt = rff.Wt.data();
  float* S = sum_buffer(Dpad);
  __m256 ss = _mm256_setzero_ps();
  for (int i = 0; i < Dpad; i += 8) {
    const __m256 bias = _mm256_loadu_ps(rff.bias.data() + i);
    const __m256 scale = _mm256_loadu_ps(rff.scale.data() + i);
    __m256 sum = _mm256_setzero_ps();
    for (int j = 0; j < M; ++j) {
      if (!valid[j]) continue;
      const float* uj = u + static_cast<size_t>(j) * P;
      __m256 a = bias;
      for (int p = 0; p < P; ++p)
        a = _mm256_fmadd_ps(_mm256_set1_ps(uj[p]), _mm256_loadu_ps(Wt + static_cast<size_t>(p) * Dpad + i), a);
      const __m256 f = _mm256_mul_ps(simd::cos8(a), scale);
      _mm256_storeu_ps(phi + static_cast<size_t>(j) * Dpad + i, f);
      sum = _mm256_add_ps(sum, f);
    }
    _mm256_storeu_ps(S + i, sum);
    ss = _mm256_fmadd_ps(sum, sum, ss);
  }
  *s2 = simd::hsum8(ss);
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const float* pj = phi + static_cast<size_t>(j) * Dpad;
    __m256 gj = _mm256_setzero_ps(), nj = _mm256_setzero_ps();
    for (int i = 0; i < Dpad; i += 8) {
      const __m256 f = _mm256_loadu_ps(pj + i);
      gj = _mm256_fmadd_ps(f, _mm256_loadu_ps(S + i), gj);
      nj = _mm256_fmadd_ps(f, f, nj);
    }
    g[j] = simd::hsum8(gj);
    n[j] = simd::hsum8(nj);
  }
}

CMM_TARGET_AVX512 void gram_avx512(const float* u, const uint8_t* valid, int M, const RffParams& rff,
                                   float* phi, double* g, double* n, double* s2) {
  const int P = rff.P, Dpad = rff.Dpad;
  const float* Wt = rff.Wt.data();
  float* S = sum_buffer(Dpad);
  __m512 ss = _mm512_setzero_ps();
  for (int i = 0; i < Dpad; i += 16) {
    const __m512 bias = _mm512_loadu_ps(rff.bias.data() + i);
    const __m512 scale = _mm512_loadu_ps(rff.scale.data() + i);
    __m512 sum = _mm512_setzero_ps();
    for (int j = 0; j < M; ++j) {
      if (!valid[j]) continue;
      const float* uj = u + static_cast<size_t>(j) * P;
      __m512 a = bias;
      for (int p = 0; p < P; ++p)
        a = _mm512_fmadd_ps(_mm512_set1_ps(uj[p]), _mm512_loadu_ps(Wt + static_cast<size_t>(p) * Dpad + i), a);
      const __m512 f = _mm512_mul_ps(simd::cos16(a), scale);
      _mm512_storeu_ps(phi + static_cast<size_t>(j) * Dpad + i, f);
      sum = _mm512_add_ps(sum, f);
    }
    _mm512_storeu_ps(S + i, sum);
    ss = _mm512_fmadd_ps(sum, sum, ss);
  }
  *s2 = simd::hsum16(ss);
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const float* pj = phi + static_cast<size_t>(j) * Dpad;
    __m512 gj = _mm512_setzero_ps(), nj = _mm512_setzero_ps();
    for (int i = 0; i < Dpad; i += 16) {
      const __m512 f = _mm512_loadu_ps(pj + i);
      gj = _mm512_fmadd_ps(f, _mm512_loadu_ps(S + i), gj);
      nj = _mm512_fmadd_ps(f, f, nj);
    }
    g[j] = simd::hsum16(gj);
    n[j] = simd::hsum16(nj);
  }
}

}  // namespace cmm::moe::detail
#endif
