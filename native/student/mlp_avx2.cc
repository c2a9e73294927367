// Student bank AVX2 (+FMA) path: broadcast-FMA matrix-vector tiles over the padded packed weights, and
// vectorised activations from moe/simd_math.h. Same packed layout and semantics as the scalar path in mlp.cc.
#include <cstring>

#include "moe/simd_math.h"
#include "student/mlp.h"

namespace cmm::student {

#if defined(CMM_HAVE_X86_SIMD)
namespace {

// y[0..8*NV) = b + sum_{i < in} x[i] * W[i*ld + 0..8*NV). Up to 4 vectors: two accumulator sets (even/odd
// i) so 8 FMA chains are in flight; 8 vectors: one set (16 accumulators would spill).
template <int NV>
CMM_TARGET_AVX2 inline void tile(const float* x, int in, const float* W, int ld, const float* b, float* y) {
  constexpr bool kSplit = NV <= 4;
  __m256 a0[NV], a1[NV];
  for (int v = 0; v < NV; ++v) {
    a0[v] = _mm256_loadu_ps(b + 8 * v);
    a1[v] = _mm256_setzero_ps();
  }
  int i = 0;
  if (kSplit) {
    for (; i + 1 < in; i += 2) {
      const __m256 x0 = _mm256_set1_ps(x[i]), x1 = _mm256_set1_ps(x[i + 1]);
      const float* w0 = W + static_cast<size_t>(i) * ld;
      const float* w1 = w0 + ld;
      for (int v = 0; v < NV; ++v) {
        a0[v] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + 8 * v), a0[v]);
        a1[v] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(w1 + 8 * v), a1[v]);
      }
    }
  }
  for (; i < in; ++i) {
    const __m256 x0 = _mm256_set1_ps(x[i]);
    const float* w0 = W + static_cast<size_t>(i) * ld;
    for (int v = 0; v < NV; ++v) a0[v] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(w0 + 8 * v), a0[v]);
  }
  for (int v = 0; v < NV; ++v) _mm256_storeu_ps(y + 8 * v, kSplit ? _mm256_add_ps(a0[v], a1[v]) : a0[v]);
}

// n is a multiple of 8 (padded width).
CMM_TARGET_AVX2 void matvec(const float* x, int in, const float* W, int ld, const float* b, int n, float* y) {
  int o = 0;
  for (; n - o >= 64; o += 64) tile<8>(x, in, W + o, ld, b + o, y + o);
  for (; n - o >= 32; o += 32) tile<4>(x, in, W + o, ld, b + o, y + o);
  for (; n - o >= 16; o += 16) tile<2>(x, in, W + o, ld, b + o, y + o);
  for (; n - o >= 8; o += 8) tile<1>(x, in, W + o, ld, b + o, y + o);
}

CMM_TARGET_AVX2 void activate(float* y, int n, Activation a) {
  for (int o = 0; o < n; o += 8) {
    const __m256 v = _mm256_loadu_ps(y + o);
    __m256 r = v;
    if (a == Activation::kTanh) r = simd::tanh8(v);
    else if (a == Activation::kRelu) r = _mm256_max_ps(_mm256_setzero_ps(), v);  // NaN (2nd operand) kept
    else if (a == Activation::kGeluErf) r = simd::gelu8(v);
    _mm256_storeu_ps(y + o, r);
  }
}

}  // namespace

CMM_TARGET_AVX2 void StudentBank::students_avx2(const float* x, float* out) {
  const int S = shape_.students, L = static_cast<int>(shape_.hidden.size()), F = shape_.inputs;
  const float* xin = x;
  if (shape_.normalize) {
    for (int i = 0; i < F; ++i) xn_[i] = (x[i] - mean_[i]) / std_[i];  // ONNX Sub then Div
    xin = xn_.data();
  }
  const int n0 = padded_[1], ld0 = S * n0;
  float* cur = buf_a_.data();
  float* nxt = buf_b_.data();
  matvec(xin, F, w0_.data(), ld0, b0_.data(), ld0, cur);  // layer 0 of every student at once
  if (L > 0) activate(cur, ld0, shape_.activation);
  for (int l = 1; l <= L; ++l) {
    const int pin = padded_[l], pout = padded_[l + 1];
    for (int s = 0; s < S; ++s) {
      float* y = nxt + s * pout;
      // Only the real rows of the previous layer are read: padded lanes never feed forward.
      matvec(cur + s * pin, width_[l], w_[l][s].data(), pout, b_[l][s].data(), pout, y);
      if (l < L) activate(y, pout, shape_.activation);
    }
    std::swap(cur, nxt);
  }
  const int O = shape_.outputs, pO = padded_[L + 1];
  for (int s = 0; s < S; ++s) std::memcpy(out + s * O, cur + s * pO, sizeof(float) * O);
}
#else
void StudentBank::students_avx2(const float* x, float* out) { students_scalar(x, out); }
#endif

}  // namespace cmm::student
