// Hajek-MoE SIMD paths: RFF phase by FMA over the transposed W (lanes = RFF features, 64 at a time in
// independent chains), polynomial cos (simd_math.h, |error| < 1e-7), Gram sums in float lanes reduced to
// double. Selected in hajek.cc by cpuid.
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

// phi_j for NV consecutive vectors of RFF features starting at lane i: NV independent FMA chains over the P
// inputs, then NV independent cos evaluations (the kernel is latency-bound with one chain at a time).
// Adds phi_j into S.
template <int NV>
CMM_TARGET_AVX2 inline void phi_chunk_avx2(const float* uj, const RffParams& rff, int i, float* phij, float* S) {
  const int P = rff.P, Dpad = rff.Dpad;
  const float* Wt = rff.Wt.data() + i;
  __m256 a[NV];
  for (int v = 0; v < NV; ++v) a[v] = _mm256_loadu_ps(rff.bias.data() + i + 8 * v);
  for (int p = 0; p < P; ++p) {
    const __m256 up = _mm256_set1_ps(uj[p]);
    const float* w = Wt + static_cast<size_t>(p) * Dpad;
    for (int v = 0; v < NV; ++v) a[v] = _mm256_fmadd_ps(up, _mm256_loadu_ps(w + 8 * v), a[v]);
  }
  for (int v = 0; v < NV; ++v) {
    const __m256 f = _mm256_mul_ps(simd::cos8(a[v]), _mm256_loadu_ps(rff.scale.data() + i + 8 * v));
    _mm256_storeu_ps(phij + i + 8 * v, f);
    _mm256_storeu_ps(S + i + 8 * v, _mm256_add_ps(_mm256_loadu_ps(S + i + 8 * v), f));
  }
}

CMM_TARGET_AVX2 void gram_avx2(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi,
                               double* g, double* n, double* s2) {
  const int P = rff.P, Dpad = rff.Dpad;
  float* S = sum_buffer(Dpad);
  for (int i = 0; i < Dpad; i += 8) _mm256_storeu_ps(S + i, _mm256_setzero_ps());
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const float* uj = u + static_cast<size_t>(j) * P;
    float* pj = phi + static_cast<size_t>(j) * Dpad;
    int i = 0;
    for (; Dpad - i >= 64; i += 64) phi_chunk_avx2<8>(uj, rff, i, pj, S);
    for (; i < Dpad; i += 8) phi_chunk_avx2<1>(uj, rff, i, pj, S);
  }
  __m256 ss = _mm256_setzero_ps();
  for (int i = 0; i < Dpad; i += 8) {
    const __m256 sv = _mm256_loadu_ps(S + i);
    ss = _mm256_fmadd_ps(sv, sv, ss);
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

template <int NV>
CMM_TARGET_AVX512 inline void phi_chunk_avx512(const float* uj, const RffParams& rff, int i, float* phij, float* S) {
  const int P = rff.P, Dpad = rff.Dpad;
  const float* Wt = rff.Wt.data() + i;
  __m512 a[NV];
  for (int v = 0; v < NV; ++v) a[v] = _mm512_loadu_ps(rff.bias.data() + i + 16 * v);
  for (int p = 0; p < P; ++p) {
    const __m512 up = _mm512_set1_ps(uj[p]);
    const float* w = Wt + static_cast<size_t>(p) * Dpad;
    for (int v = 0; v < NV; ++v) a[v] = _mm512_fmadd_ps(up, _mm512_loadu_ps(w + 16 * v), a[v]);
  }
  for (int v = 0; v < NV; ++v) {
    const __m512 f = _mm512_mul_ps(simd::cos16(a[v]), _mm512_loadu_ps(rff.scale.data() + i + 16 * v));
    _mm512_storeu_ps(phij + i + 16 * v, f);
    _mm512_storeu_ps(S + i + 16 * v, _mm512_add_ps(_mm512_loadu_ps(S + i + 16 * v), f));
  }
}

CMM_TARGET_AVX512 void gram_avx512(const float* u, const uint8_t* valid, int M, const RffParams& rff,
                                   float* phi, double* g, double* n, double* s2) {
  const int P = rff.P, Dpad = rff.Dpad;
  float* S = sum_buffer(Dpad);
  for (int i = 0; i < Dpad; i += 16) _mm512_storeu_ps(S + i, _mm512_setzero_ps());
  for (int j = 0; j < M; ++j) {
    if (!valid[j]) continue;
    const float* uj = u + static_cast<size_t>(j) * P;
    float* pj = phi + static_cast<size_t>(j) * Dpad;
    int i = 0;
    for (; Dpad - i >= 64; i += 64) phi_chunk_avx512<4>(uj, rff, i, pj, S);
    for (; i < Dpad; i += 16) phi_chunk_avx512<1>(uj, rff, i, pj, S);
  }
  __m512 ss = _mm512_setzero_ps();
  for (int i = 0; i < Dpad; i += 16) {
    const __m512 sv = _mm512_loadu_ps(S + i);
    ss = _mm512_fmadd_ps(sv, sv, ss);
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
