// Student bank: flat-layout validation and repacking, the scalar path, and the MoE step per task.
// The AVX2 path is in mlp_avx2.cc; both read the same packed weights (padded columns are never read back).
#include "student/mlp.h"

#include <cmath>
#include <cstring>

namespace cmm::student {
namespace {

constexpr float kInvSqrt2 = 0.7071067811865476f;

inline int pad8(int n) { return (n + 7) / 8 * 8; }

inline float activate(float v, Activation a) {
  switch (a) {
    case Activation::kTanh: return std::tanh(v);
    case Activation::kRelu: return v < 0.0f ? 0.0f : v;  // NaN stays NaN
    case Activation::kGeluErf: return (v * (1.0f + std::erf(v * kInvSqrt2))) * 0.5f;
    default: return v;
  }
}

// y[o] = b[o] + sum_{i < in} x[i] * W[i * ld + o] for o < n (i ascending, as in the AVX2 path).
void matvec_scalar(const float* x, int in, const float* W, int ld, const float* b, int n, float* y) {
  for (int o = 0; o < n; ++o) y[o] = b[o];
  for (int i = 0; i < in; ++i) {
    const float xi = x[i];
    const float* wi = W + static_cast<size_t>(i) * ld;
    for (int o = 0; o < n; ++o) y[o] += xi * wi[o];
  }
}

}  // namespace

size_t flat_size(const BankShape& shape) {
  if (shape.students <= 0 || shape.inputs <= 0 || shape.outputs <= 0) return 0;
  size_t per = 0;
  int in = shape.inputs;
  for (int h : shape.hidden) {
    if (h <= 0) return 0;
    per += static_cast<size_t>(in) * h + h;
    in = h;
  }
  per += static_cast<size_t>(in) * shape.outputs + shape.outputs;
  return per * shape.students + (shape.normalize ? 2 * static_cast<size_t>(shape.inputs) : 0);
}

bool impl_available(Impl impl) {
  if (impl != Impl::kAvx2) return true;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

Impl resolve_impl(Impl requested) {
  if (requested != Impl::kAuto) return requested;
  return impl_available(Impl::kAvx2) ? Impl::kAvx2 : Impl::kScalar;
}

const char* impl_name(Impl impl) {
  return impl == Impl::kAvx2 ? "avx2" : impl == Impl::kScalar ? "scalar" : "auto";
}

bool StudentBank::load(const BankShape& shape, const float* flat, size_t n, Impl impl, std::string* error) {
  const size_t need = flat_size(shape);
  if (need == 0) {
    *error = "invalid student bank shape (students, inputs, hidden sizes and outputs must be positive)";
    return false;
  }
  if (flat == nullptr || n != need) {
    *error = "expected " + std::to_string(need) + " floats of student weights, got " + std::to_string(n);
    return false;
  }
  impl = resolve_impl(impl);
  if (!impl_available(impl)) {
    *error = std::string("student kernel '") + impl_name(impl) + "' is not available on this CPU";
    return false;
  }
  shape_ = shape;
  impl_ = impl;
  const int S = shape.students, L = static_cast<int>(shape.hidden.size());
  width_.assign(1, shape.inputs);
  for (int h : shape.hidden) width_.push_back(h);
  width_.push_back(shape.outputs);
  padded_.assign(width_.size(), 0);
  int max_pad = 0;
  for (size_t l = 1; l < width_.size(); ++l) {
    padded_[l] = pad8(width_[l]);
    if (padded_[l] > max_pad) max_pad = padded_[l];
  }
  const float* p = flat;
  if (shape.normalize) {
    mean_.assign(p, p + shape.inputs);
    std_.assign(p + shape.inputs, p + 2 * shape.inputs);
    p += 2 * shape.inputs;
  } else {
    mean_.clear();
    std_.clear();
  }
  const int F = shape.inputs, n0 = padded_[1], ld0 = S * n0;
  w0_.assign(static_cast<size_t>(F) * ld0, 0.0f);
  b0_.assign(ld0, 0.0f);
  w_.assign(L + 1, {});
  b_.assign(L + 1, {});
  for (int l = 1; l <= L; ++l) {
    w_[l].assign(S, std::vector<float>(static_cast<size_t>(width_[l]) * padded_[l + 1], 0.0f));
    b_[l].assign(S, std::vector<float>(padded_[l + 1], 0.0f));
  }
  for (int s = 0; s < S; ++s) {
    for (int l = 0; l <= L; ++l) {
      const int in = width_[l], out = width_[l + 1];
      for (int i = 0; i < in; ++i)
        for (int o = 0; o < out; ++o) {
          const float v = p[static_cast<size_t>(i) * out + o];
          if (l == 0) w0_[static_cast<size_t>(i) * ld0 + s * n0 + o] = v;
          else w_[l][s][static_cast<size_t>(i) * padded_[l + 1] + o] = v;
        }
      p += static_cast<size_t>(in) * out;
      for (int o = 0; o < out; ++o) {
        if (l == 0) b0_[s * n0 + o] = p[o];
        else b_[l][s][o] = p[o];
      }
      p += out;
    }
  }
  xn_.assign(F, 0.0f);
  buf_a_.assign(static_cast<size_t>(S) * max_pad, 0.0f);
  buf_b_.assign(static_cast<size_t>(S) * max_pad, 0.0f);
  tasks_ = 0;
  rff_.clear();
  tau_.clear();
  out_size_ = static_cast<size_t>(S) * shape.outputs;
  return true;
}

bool StudentBank::set_moe(int tasks, std::vector<moe::RffParams> rff, std::vector<float> tau, moe::Impl impl,
                          std::string* error) {
  const int S = shape_.students;
  if (S == 0) {
    *error = "load the student weights before configuring the MoE";
    return false;
  }
  if (tasks <= 0 || S % tasks != 0) {
    *error = "expected a number of tasks that divides the " + std::to_string(S) + " students, got " +
             std::to_string(tasks);
    return false;
  }
  if (static_cast<int>(rff.size()) != tasks || static_cast<int>(tau.size()) != tasks) {
    *error = "expected one RFF map and one tau per task";
    return false;
  }
  for (const auto& r : rff)
    if (r.P != shape_.outputs) {
      *error = "expected RFF maps over " + std::to_string(shape_.outputs) + " inputs (d'+1), got " +
               std::to_string(r.P);
      return false;
    }
  for (float t : tau)
    if (!std::isfinite(t)) {
      *error = "expected a finite tau";
      return false;
    }
  impl = moe::resolve_impl(impl);
  if (!moe::impl_available(impl)) {
    *error = std::string("MoE kernel '") + moe::impl_name(impl) + "' is not available on this CPU";
    return false;
  }
  tasks_ = tasks;
  rff_ = std::move(rff);
  tau_ = std::move(tau);
  moe_impl_ = impl;
  const int M = S / tasks;
  out_size_ = static_cast<size_t>(S) * shape_.outputs + tasks + static_cast<size_t>(tasks) * M;
  return true;
}

void StudentBank::students_scalar(const float* x, float* out) {
  const int S = shape_.students, L = static_cast<int>(shape_.hidden.size()), F = shape_.inputs;
  const float* xin = x;
  if (shape_.normalize) {
    for (int i = 0; i < F; ++i) xn_[i] = (x[i] - mean_[i]) / std_[i];  // ONNX Sub then Div
    xin = xn_.data();
  }
  const int n0 = padded_[1], ld0 = S * n0;
  float* cur = buf_a_.data();
  float* nxt = buf_b_.data();
  for (int s = 0; s < S; ++s) {
    float* y = cur + s * n0;
    matvec_scalar(xin, F, w0_.data() + s * n0, ld0, b0_.data() + s * n0, width_[1], y);
    if (L > 0)
      for (int o = 0; o < width_[1]; ++o) y[o] = activate(y[o], shape_.activation);
  }
  for (int l = 1; l <= L; ++l) {
    const int pin = padded_[l], pout = padded_[l + 1];
    for (int s = 0; s < S; ++s) {
      float* y = nxt + s * pout;
      matvec_scalar(cur + s * pin, width_[l], w_[l][s].data(), pout, b_[l][s].data(), width_[l + 1], y);
      if (l < L)
        for (int o = 0; o < width_[l + 1]; ++o) y[o] = activate(y[o], shape_.activation);
    }
    std::swap(cur, nxt);
  }
  const int O = shape_.outputs, pO = padded_[L + 1];
  for (int s = 0; s < S; ++s) std::memcpy(out + s * O, cur + s * pO, sizeof(float) * O);
}

int StudentBank::run(const float* x, float* out) {
  if (impl_ == Impl::kAvx2) students_avx2(x, out);
  else students_scalar(x, out);
  if (tasks_ == 0) return moe::kMoeOk;
  const int S = shape_.students, O = shape_.outputs, M = S / tasks_;
  float* y = out + static_cast<size_t>(S) * O;
  float* w = y + tasks_;
  int flags = moe::kMoeOk;
  for (int k = 0; k < tasks_; ++k)
    flags |= moe::hajek_moe(out + static_cast<size_t>(k) * M * O, 1, M, rff_[k], tau_[k], y + k,
                            w + static_cast<size_t>(k) * M, moe_impl_);
  return flags;
}

int StudentBank::run_batch(const float* x, int B, float* out) {
  int flags = moe::kMoeOk;
  for (int b = 0; b < B; ++b)
    flags |= run(x + static_cast<size_t>(b) * shape_.inputs, out + static_cast<size_t>(b) * out_size_);
  return flags;
}

}  // namespace cmm::student
