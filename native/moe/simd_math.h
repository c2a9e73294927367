// Vectorised cos / exp / tanh / erf for the AVX2 (+FMA) and AVX-512 kernels of the Hajek-MoE and the
// student MLPs. Compiled through __attribute__((target)) so the rest of the addon stays baseline x86-64.
// NaN in gives NaN out everywhere (clamps put the input second so min/max propagate it): a NaN feature
// must reach the MoE, which then excludes the expert instead of mixing garbage in.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#define CMM_HAVE_X86_SIMD 1
#include <immintrin.h>

#define CMM_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CMM_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))

namespace cmm::simd {

// Cody-Waite split of pi/2: kPio2Hi = float(pi/2); kPio2Lo = float(pi/2 - kPio2Hi). With FMA, x - k*kPio2Hi
// is exact for |k| < 2^23 (both are multiples of ulp(kPio2Hi)), so |error of r| <= ulp(r)/2 after the
// second step; the dropped third term (about 1.7e-16 * k) is below float resolution for |x| < 1e6.
constexpr float kTwoOverPi = 0.636619772367581343f;
constexpr float kPio2Hi = 1.57079637050628662109375f;
constexpr float kPio2Lo = -4.37113900018624283e-8f;
// Cephes sinf/cosf minimax polynomials on [-pi/4, pi/4] (about 1 ulp).
constexpr float kSin0 = -1.9515295891e-4f, kSin1 = 8.3321608736e-3f, kSin2 = -1.6666654611e-1f;
constexpr float kCos0 = 2.443315711809948e-5f, kCos1 = -1.388731625493765e-3f, kCos2 = 4.166664568298827e-2f;
// Cephes expf: x = n*ln2 + r, e^r by a degree-6 polynomial, 2^n through the exponent bits.
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kExpHi = 88.3762626647949f, kExpLo = -87.3365447505531f;
constexpr float kExp0 = 1.9875691500e-4f, kExp1 = 1.3981999507e-3f, kExp2 = 8.3334519073e-3f,
                kExp3 = 4.1665795894e-2f, kExp4 = 1.6666665459e-1f, kExp5 = 5.0000001201e-1f;
// Abramowitz & Stegun 7.1.26: erf(x) = 1 - t*(a1 + t*(a2 + ...)) * exp(-x^2), t = 1/(1 + p x), |err| <= 1.5e-7.
constexpr float kErfP = 0.3275911f, kErfA1 = 0.254829592f, kErfA2 = -0.284496736f, kErfA3 = 1.421413741f,
                kErfA4 = -1.453152027f, kErfA5 = 1.061405429f;
// |x| < 0.5: Maclaurin series of erf to x^13 (truncation < 1e-9), avoiding the 1 - p*e cancellation.
constexpr float kErfS0 = 1.1283791670955126f, kErfS1 = -0.37612638903183754f, kErfS2 = 0.11283791670955126f,
                kErfS3 = -0.026866170645131252f, kErfS4 = 0.005223977625442188f,
                kErfS5 = -0.0008548327023450852f, kErfS6 = 0.00012055332981789664f;
constexpr float kInvSqrt2 = 0.7071067811865476f;

// ---------------------------------------------------------------- AVX2 (8 lanes)
CMM_TARGET_AVX2 static inline __m256 cos8(__m256 x) {
  const __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kTwoOverPi)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kPio2Hi), x);
  r = _mm256_fnmadd_ps(k, _mm256_set1_ps(kPio2Lo), r);
  const __m256i q = _mm256_cvtps_epi32(k);
  const __m256 z = _mm256_mul_ps(r, r);
  __m256 s = _mm256_fmadd_ps(_mm256_set1_ps(kSin0), z, _mm256_set1_ps(kSin1));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kSin2));
  s = _mm256_fmadd_ps(_mm256_mul_ps(s, z), r, r);
  __m256 c = _mm256_fmadd_ps(_mm256_set1_ps(kCos0), z, _mm256_set1_ps(kCos1));
  c = _mm256_fmadd_ps(c, z, _mm256_set1_ps(kCos2));
  c = _mm256_fmadd_ps(_mm256_mul_ps(c, z), z, _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, _mm256_set1_ps(1.0f)));
  // cos(r + q*pi/2): q odd -> sin(r) branch; q = 1, 2 (mod 4) -> negate.
  const __m256i one = _mm256_set1_epi32(1);
  const __m256 use_sin = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, one), one));
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(_mm256_add_epi32(q, one), _mm256_set1_epi32(2)), 30);
  return _mm256_xor_ps(_mm256_blendv_ps(c, s, use_sin), _mm256_castsi256_ps(sign));
}

CMM_TARGET_AVX2 static inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(kExpHi), x);  // NaN-propagating order
  x = _mm256_max_ps(_mm256_set1_ps(kExpLo), x);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  const __m256 z = _mm256_mul_ps(r, r);
  __m256 y = _mm256_fmadd_ps(_mm256_set1_ps(kExp0), r, _mm256_set1_ps(kExp1));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExp2));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExp3));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExp4));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExp5));
  y = _mm256_fmadd_ps(y, z, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

// tanh(x) = sign(x) * (1 - t) / (1 + t), t = exp(-2|x|) <= 1: no overflow, absolute error ~1e-7.
CMM_TARGET_AVX2 static inline __m256 tanh8(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign_bit, x);
  const __m256 t = exp8(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 y = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
  return _mm256_or_ps(y, _mm256_and_ps(x, sign_bit));
}

CMM_TARGET_AVX2 static inline __m256 erf8(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign_bit, x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(kErfP), ax, one));
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(kErfA5), t, _mm256_set1_ps(kErfA4));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfA3));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfA2));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(kErfA1));
  p = _mm256_mul_ps(p, t);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
  const __m256 big = _mm256_or_ps(_mm256_fnmadd_ps(p, e, one), _mm256_and_ps(x, sign_bit));
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 s = _mm256_fmadd_ps(_mm256_set1_ps(kErfS6), z, _mm256_set1_ps(kErfS5));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kErfS4));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kErfS3));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kErfS2));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kErfS1));
  s = _mm256_fmadd_ps(s, z, _mm256_set1_ps(kErfS0));
  s = _mm256_mul_ps(s, x);
  // NaN compares false -> takes `big`, which is NaN.
  return _mm256_blendv_ps(big, s, _mm256_cmp_ps(ax, _mm256_set1_ps(0.5f), _CMP_LT_OQ));
}

// GELU with erf, in the order of the ONNX decomposition: (x * (1 + erf(x / sqrt 2))) * 0.5.
CMM_TARGET_AVX2 static inline __m256 gelu8(__m256 x) {
  const __m256 e = erf8(_mm256_mul_ps(x, _mm256_set1_ps(kInvSqrt2)));
  return _mm256_mul_ps(_mm256_mul_ps(x, _mm256_add_ps(e, _mm256_set1_ps(1.0f))), _mm256_set1_ps(0.5f));
}

CMM_TARGET_AVX2 static inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---------------------------------------------------------------- AVX-512 (16 lanes)
CMM_TARGET_AVX512 static inline __m512 cos16(__m512 x) {
  const __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kTwoOverPi)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kPio2Hi), x);
  r = _mm512_fnmadd_ps(k, _mm512_set1_ps(kPio2Lo), r);
  const __m512i q = _mm512_cvtps_epi32(k);
  const __m512 z = _mm512_mul_ps(r, r);
  __m512 s = _mm512_fmadd_ps(_mm512_set1_ps(kSin0), z, _mm512_set1_ps(kSin1));
  s = _mm512_fmadd_ps(s, z, _mm512_set1_ps(kSin2));
  s = _mm512_fmadd_ps(_mm512_mul_ps(s, z), r, r);
  __m512 c = _mm512_fmadd_ps(_mm512_set1_ps(kCos0), z, _mm512_set1_ps(kCos1));
  c = _mm512_fmadd_ps(c, z, _mm512_set1_ps(kCos2));
  c = _mm512_fmadd_ps(_mm512_mul_ps(c, z), z, _mm512_fnmadd_ps(_mm512_set1_ps(0.5f), z, _mm512_set1_ps(1.0f)));
  const __m512i one = _mm512_set1_epi32(1);
  const __mmask16 use_sin = _mm512_test_epi32_mask(q, one);
  const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(_mm512_add_epi32(q, one), _mm512_set1_epi32(2)), 30);
  return _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(_mm512_mask_blend_ps(use_sin, c, s)), sign));
}

// (GCC 12's _mm512_reduce_add_ps trips -Wmaybe-uninitialized; this is the same reduction.)
CMM_TARGET_AVX512 static inline float hsum16(__m512 v) {
  return hsum8(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

}  // namespace cmm::simd
#endif
