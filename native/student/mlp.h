// Fused kernel for the OFDD student bank: S small MLPs on one feature vector in one call (the first layer of
// all students fused into one matrix), then optionally the Hajek-MoE per task. AVX2 and scalar paths.
//
// Flat weight layout (what src/onnx/read-weights.ts extracts from the ONNX initializers; all float32):
//   [mean: F][std: F]                                 only when shape.normalize (x' = (x - mean) / std)
//   for s in 0..S-1 (student order = task-major: s = task * M + expert):
//     for l in 0..L (L = hidden.size(); l = L is the linear output layer):
//       W_l: in_l x out_l row-major   (ONNX Gemm input B with transB = 0, tfjs dense kernel layout)
//       b_l: out_l
//   in_0 = F, out_l = hidden[l] for l < L, out_L = O (= d'+1: [z ; y], y last).
// Hidden layers apply `activation`; the output layer is linear.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "moe/hajek.h"

namespace cmm::student {

enum class Activation : int { kIdentity = 0, kTanh = 1, kRelu = 2, kGeluErf = 3 };

struct BankShape {
  int students = 0;         // S
  int inputs = 0;           // F
  std::vector<int> hidden;  // H_1..H_L, may be empty
  int outputs = 0;          // O
  Activation activation = Activation::kTanh;
  bool normalize = false;
};

// Number of floats the flat layout above holds for this shape (0 if the shape is invalid).
size_t flat_size(const BankShape& shape);

enum class Impl : int { kAuto = 0, kScalar = 1, kAvx2 = 2 };
bool impl_available(Impl impl);
Impl resolve_impl(Impl requested);  // kAuto -> AVX2 (with FMA) when present, else scalar
const char* impl_name(Impl impl);

class StudentBank {
 public:
  // Repacks the flat weights for the kernels. Returns false and sets *error on a bad shape or size.
  bool load(const BankShape& shape, const float* flat, size_t n, Impl impl, std::string* error);
  // Hajek-MoE per task: tasks * experts == S, students of task k are k*M .. k*M+M-1. rff/tau: one per task,
  // each with P == O. Returns false and sets *error on mismatch.
  bool set_moe(int tasks, std::vector<moe::RffParams> rff, std::vector<float> tau, moe::Impl impl,
               std::string* error);

  // out = [S x O student outputs][K MoE predictions][K x M MoE weights] (the MoE parts only when set_moe
  // was called). Returns the OR of the MoE flags (moe::MoeFlag); NaN features give NaN students, which
  // the MoE then excludes (kMoeNoValidExpert when a whole task is NaN).
  int run(const float* x, float* out);
  // x: B x F, out: B x out_size(). Rows are independent; returns the OR of the flags.
  int run_batch(const float* x, int B, float* out);

  size_t out_size() const { return out_size_; }
  const BankShape& shape() const { return shape_; }
  Impl impl() const { return impl_; }
  moe::Impl moe_impl() const { return moe_impl_; }
  int tasks() const { return tasks_; }

 private:
  void students_scalar(const float* x, float* out);
  void students_avx2(const float* x, float* out);

  BankShape shape_;
  Impl impl_ = Impl::kScalar;
  std::vector<int> width_;   // real widths: width_[0] = F, then hidden..., O
  std::vector<int> padded_;  // widths rounded up to 8 (padded_[0] unused)
  std::vector<float> mean_, std_;
  // Layer 0 of all students fused: F x (S * padded_[1]); bias S * padded_[1].
  std::vector<float> w0_, b0_;
  // Layers l >= 1 per student: w_[l][s] is width_[l] x padded_[l+1] (real rows only), b_[l][s] padded.
  std::vector<std::vector<std::vector<float>>> w_, b_;
  std::vector<float> xn_, buf_a_, buf_b_;
  size_t out_size_ = 0;
  // MoE
  int tasks_ = 0;
  std::vector<moe::RffParams> rff_;
  std::vector<float> tau_;
  moe::Impl moe_impl_ = moe::Impl::kScalar;
};

}  // namespace cmm::student
