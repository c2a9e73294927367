// Hajek-MoE (docs: shared/design/cmm.md, "Hajek-MoE"): combines M experts' predictions per decision by how
// much each agrees with the others in a random-Fourier-feature space. SIMD kernels chosen at run time.
//
// Per decision b, experts j with u_j = [z_j ; y_j] in R^P (P = d'+1, y_j last):
//   V       = { j : every component of u_j is finite }                 (the other experts get w_j = 0)
//   phi_j   = sqrt(2/D) * cos(W u_j + bias)                             W: D x P, bias: D
//   S       = sum_{j in V} phi_j,  c = S / |V|
//   h_j     = (|V|/(|V|-1)) <phi_j, c> - (1/(|V|-1)) <phi_j, phi_j> - theta
//           = mean_{l in V, l != j} <phi_j, phi_l> - theta
//   theta   = mean over ordered pairs j != l in V of <phi_j, phi_l> = (|S|^2 - sum_j |phi_j|^2) / (|V|(|V|-1))
//             (so the h_j average to zero; theta does not change w, it centres h)
//   w       = softmax(tau * h) over V;  y = sum_j w_j y_j
//   |V| = 1: w = 1 on that expert, h = 0.  |V| = 0: y = NaN, all w = 0, kMoeNoValidExpert set.
#pragma once
#include <cstddef>
#include <vector>

namespace cmm::moe {

enum class Impl : int { kAuto = 0, kScalar = 1, kAvx2 = 2, kAvx512 = 3 };

// Quality flags returned by hajek_moe, OR-ed over the batch (0 = every decision used every expert).
enum MoeFlag : int {
  kMoeOk = 0,
  kMoeExpertExcluded = 1,  // some expert had a NaN/Inf in u and got weight 0
  kMoeNoValidExpert = 2,   // some decision had no finite expert: its y is NaN (pull quotes)
  kMoeInvalidArg = 64,     // bad sizes/pointers: nothing written
};

const char* impl_name(Impl impl);
bool impl_available(Impl impl);  // cpuid (AVX2 needs FMA too); kScalar and kAuto always true
// kAuto resolves to the best available one, unless the environment variable CMM_MOE_IMPL=scalar|avx2|avx512
// (read once) names an available one. Any other request is returned as is (callers check availability).
Impl resolve_impl(Impl requested);

// RFF parameters repacked for the kernels: Wt is P x Dpad (transposed, zero-padded), bias and scale are
// Dpad long; scale = sqrt(2/D) on real lanes, 0 on padding, so padded lanes give phi = 0 exactly.
struct RffParams {
  int D = 0;
  int P = 0;
  int Dpad = 0;  // D rounded up to 16
  std::vector<float> Wt, bias, scale;
  // Scalar path: the unpadded originals (row-major D x P) in double.
  std::vector<double> W64, bias64;
};

// W row-major D x P, bias D. Returns false on bad sizes.
bool make_rff(const float* W, const float* bias, int D, int P, RffParams* out);

// u: B x M x P (decision-major, then expert, then component). y_out: B. w_out: B x M (may be null).
// Returns MoeFlag bits; kMoeInvalidArg (nothing written) for bad sizes or an impl this CPU lacks.
int hajek_moe(const float* u, int B, int M, const RffParams& rff, float tau, float* y_out, float* w_out,
              Impl impl = Impl::kAuto);

}  // namespace cmm::moe
