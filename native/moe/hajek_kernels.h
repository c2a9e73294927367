// Internal to native/moe: the per-implementation part of the Hajek-MoE (RFF map + Gram sums) and the
// shared per-decision logic in hajek.cc. Not part of the public API.
#pragma once
#include <cstdint>

#include "moe/hajek.h"

namespace cmm::moe::detail {

// For the experts with valid[j] != 0 among u (M x P): phi_j into phi (M x Dpad, rows of invalid experts
// untouched), then g[j] = <phi_j, S>, n[j] = <phi_j, phi_j> and *s2 = <S, S> with S = sum of valid phi_j.
using GramFn = void (*)(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi,
                        double* g, double* n, double* s2);

void gram_scalar(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi, double* g,
                 double* n, double* s2);
#if defined(__x86_64__) || defined(__i386__)
void gram_avx2(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi, double* g,
               double* n, double* s2);
void gram_avx512(const float* u, const uint8_t* valid, int M, const RffParams& rff, float* phi, double* g,
                 double* n, double* s2);
#endif

}  // namespace cmm::moe::detail
