// SPDX-License-Identifier: Apache-2.0
// Judging a computed step: the checks every judge in the toolkit makes
// (scalora-verify, scalora-step, the kernels' agreement and property tests,
// the trainer's shadow checks), each a Check (verdict.hpp) with its value and
// its derived budget (docs/numerics.md):
//   optimality        the applied scaling's exact bound decrease against the
//                     rule's optimum (judgement.hpp): pass, fail or inconclusive
//   branch, squared_scalings, bound_decrease
//                     diagnostics (info) that explain a failure
//   A', B', gradients, moments
//                     the lemmas for the APPLIED scaling, entry by entry
//   W_unchanged       the re-split invariant W_pt' + lora_scale A'B'^T = W_pt + lora_scale A B^T
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "scalora/core/bfloat16.hpp"
#include "scalora/reference/budget.hpp"
#include "scalora/reference/judgement.hpp"
#include "scalora/reference/verdict.hpp"

namespace scalora::reference {

namespace detail {
/// a * b = hi + lo exactly (no overflow or underflow).
inline void two_product(double a, double b, double& hi, double& lo) {
  hi = a * b;
  lo = std::fma(a, b, -hi);
}

inline std::string fmt(double x) {
  char b[40];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}
}  // namespace detail

/// The lemma of one rescaled part, entry by entry:
///   out_ij = in_ij s_j^power,  value = max |out - in s^p| / max(eps |in s^p|, floor),
/// the product formed exactly as a double-double (two_product). floor is eps
/// times the storage type's smallest normal number: a correctly rounded
/// subnormal is within floor / 2 of the exact product, so the floor keeps the
/// budget meaningful there. A NaN or Inf output is +inf.
inline Check rescale_check(const std::string& id, const std::string& title, const Matrix<double>& in,
                           const Matrix<double>& out, const Vector<double>& scale, int power, double eps,
                           double floor, double budget, const std::string& unit) {
  double worst = 0;
  Index wi = -1, wj = -1;
  for (Index j = 0; j < in.cols(); ++j) {
    const double s = scale(j);
    for (Index i = 0; i < in.rows(); ++i) {
      double hi, lo;
      detail::two_product(in(i, j), s, hi, lo);
      if (power == 2) {
        double hi2, lo2;
        detail::two_product(hi, s, hi2, lo2);
        lo = lo2 + lo * s;
        hi = hi2;
      }
      const double o = out(i, j);
      const double diff = std::abs((o - hi) - lo);
      const double denom = std::max(eps * std::abs(hi), floor);
      double e = diff == 0 ? 0.0 : diff / denom;
      if (!std::isfinite(o) || std::isnan(e)) e = INFINITY;
      if (e > worst || (wi < 0 && e == worst && std::isinf(e))) {
        worst = e;
        wi = i;
        wj = j;
      }
    }
  }
  Check c{id, title, worst <= budget ? check_status::pass : check_status::fail, worst, budget, unit,
          wi >= 0 && worst > 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : ""};
  return c;
}

/// The re-split invariant for layers of any size, in double (O(m n r) flops):
///   D     = (W_pt' - W_pt) + lora_scale [A', -A] [B', B]^T
///   scale = |W_pt| + lora_scale |A| diag(1 + |alpha beta| + |1 - alpha beta|) |B|^T
///   own   = (2r + 6) eps_64 (|W_pt'| + |W_pt| + lora_scale [|A'|, |A|] [|B'|, |B|]^T)
/// `own` bounds the error of evaluating D in double (2r + 1 terms, each product,
/// difference and the scaling by lora_scale rounded once; Higham 3.1). The value is
/// max_ij max(0, |D_ij| - own_ij) / (eps scale_ij) against budget (2r + 8):
/// the merge GEMM (r + 2 roundings), the rescaling (2), the check's own sum
/// (r + 2) (docs/numerics.md). Columns in blocks of 512 (three m x 512 buffers).
inline Check w_unchanged_check(const Matrix<double>& W0, const Matrix<double>& W1, const Matrix<double>& A,
                               const Matrix<double>& B, const Matrix<double>& A1, const Matrix<double>& B1,
                               const Vector<double>& alpha, const Vector<double>& beta, double lora_scale, double eps,
                               const std::string& unit) {
  const Index m = A.rows(), n = B.rows(), r = A.cols();
  Matrix<double> left(m, 2 * r), left_abs(m, 2 * r), right(n, 2 * r), right_abs(n, 2 * r);
  left << A1, -A;
  left_abs << A1.cwiseAbs(), A.cwiseAbs();
  right << B1, B;
  right_abs << B1.cwiseAbs(), B.cwiseAbs();
  Vector<double> w(r);
  for (Index k = 0; k < r; ++k) {
    const double ab = alpha(k) * beta(k);
    w(k) = 1 + std::abs(ab) + std::abs(1 - ab);
  }
  const Matrix<double> weighted = A.cwiseAbs() * w.asDiagonal();
  const double own_k = double(2 * r + 6) * std::numeric_limits<double>::epsilon();
  const double tolerance = budget::resplit(r);
  double worst = 0;
  Index wi = -1, wj = -1;
  const Index block = 512;
  Matrix<double> d, own, scale;
  for (Index j0 = 0; j0 < n; j0 += block) {
    const Index nb = std::min(block, n - j0);
    d.noalias() = left * right.middleRows(j0, nb).transpose();
    own.noalias() = left_abs * right_abs.middleRows(j0, nb).transpose();
    scale.noalias() = weighted * B.middleRows(j0, nb).cwiseAbs().transpose();
    for (Index j = 0; j < nb; ++j)
      for (Index i = 0; i < m; ++i) {
        const double w0 = W0(i, j0 + j), w1 = W1(i, j0 + j);
        const double diff = std::abs((w1 - w0) + lora_scale * d(i, j));
        const double slack = own_k * (std::abs(w1) + std::abs(w0) + lora_scale * own(i, j));
        const double sc = std::abs(w0) + lora_scale * scale(i, j);
        const double excess = diff - slack;
        double e = excess <= 0 ? 0.0 : (sc > 0 ? excess / (eps * sc) : INFINITY);
        if (std::isnan(e)) e = INFINITY;
        if (e > worst || (wi < 0 && e == worst && std::isinf(e))) {
          worst = e;
          wi = i;
          wj = j0 + j;
        }
      }
  }
  return {"W_unchanged", "W_pt' + lora_scale A' B'^T = W_pt + lora_scale A B^T", worst <= tolerance ? check_status::pass : check_status::fail,
          worst, tolerance, unit, wi >= 0 && worst > 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : ""};
}

/// The rescaled parts of a layer (case-file names), the scaling each is
/// multiplied by (crossed pairing for gradients and moments, spec section 6)
/// and its power.
struct RescaledPart {
  const char* name;   ///< as in the case file: "A", "exp_avg_sq_B", ...
  const char* title;  ///< the equation
  bool by_alpha;
  int power;
};
inline const RescaledPart kRescaledParts[] = {
    {"A", "A' = A diag(alpha)", true, 1},
    {"B", "B' = B diag(beta)", false, 1},
    {"grad_A", "grad_A' = grad_A diag(beta)", false, 1},
    {"grad_B", "grad_B' = grad_B diag(alpha)", true, 1},
    {"exp_avg_A", "exp_avg_A' = exp_avg_A diag(beta)", false, 1},
    {"exp_avg_sq_A", "exp_avg_sq_A' = exp_avg_sq_A diag(beta^2)", false, 2},
    {"exp_avg_B", "exp_avg_B' = exp_avg_B diag(alpha)", true, 1},
    {"exp_avg_sq_B", "exp_avg_sq_B' = exp_avg_sq_B diag(alpha^2)", true, 2},
};

/// Budgets of the rescaled entries (eps of the storage type, budget.hpp).
inline double rescaled_entry_budget(int power) {
  return power == 2 ? budget::rescaled_second_moment() : budget::rescaled_entry();
}

/// The matrix of `l` a RescaledPart names.
template <class S>
const Matrix<S>& rescaled_part(const Layer<S>& l, const std::string& name) {
  if (name == "A") return l.A;
  if (name == "B") return l.B;
  if (name == "grad_A") return l.grad_A;
  if (name == "grad_B") return l.grad_B;
  if (name == "exp_avg_A") return l.moments.exp_avg_A;
  if (name == "exp_avg_sq_A") return l.moments.exp_avg_sq_A;
  if (name == "exp_avg_B") return l.moments.exp_avg_B;
  return l.moments.exp_avg_sq_B;
}

/// The optimality verdict as a Check, and the diagnostics that explain it.
/// u_a: the applied squared scalings. The judgement's numbers are in units of
/// delta (judgement.hpp); the check reports them relative to the decisive
/// optimum's decrease.
inline void append_scaling_checks(std::vector<Check>& out, ScalingProblem& P, const ScalingJudgement& J,
                                  const Vector<double>& u_a) {
  using detail::fmt;
  const Target* decisive = J.decisive >= 0 ? &J.targets[std::size_t(J.decisive)] : nullptr;
  Check opt;
  opt.id = "optimality";
  opt.unit = "relative";
  opt.status = J.status == verdict_status::pass ? check_status::pass
               : J.status == verdict_status::fail ? check_status::fail
                                                   : check_status::inconclusive;
  opt.name = std::string("decrease of the loss bound by the applied scaling vs the rule's optimum (rule ") +
             to_string(J.rule) + ")";
  if (decisive) {
    const double v = decisive->value.mid(), a = J.applied.mid();
    const double scale = std::abs(v) > 0 ? std::abs(v) : 1.0;
    opt.value = (decisive->two_sided ? std::abs(a - v) : std::max(0.0, v - a)) / scale;
    opt.tolerance = decisive->budget.probabilistic / scale;
    opt.name += ": " + decisive->name;
  } else {
    opt.value = 0;
    opt.tolerance = 0;
  }
  opt.detail = J.reason;
  if (decisive)
    opt.detail += "; worst-case budget " + fmt(decisive->budget.worst_case * J.loss_scale) +
                  (J.flip_possible ? "; the exact decision is within the compute precision's resolution of its boundary" : "");
  out.push_back(opt);

  // Diagnostics.
  const ColumnFacts& col = P.column();
  const ScalarFacts& sc = P.scalar();
  const Index r = P.r();
  const bool scalar_shaped = (u_a.head(r).array() == u_a(0)).all() && (u_a.tail(r).array() == u_a(r)).all();
  out.push_back({"branch", "which branch the applied scaling is on vs the exact decision", check_status::info,
                 col.margin, 0, "margin",
                 std::string("applied ") + (scalar_shaped ? "scalar-shaped" : "column") + " scaling; exact decision " +
                     (col.feasible ? "column (v >= 0 exists)" : "scalar (no v >= 0)") + " by the " +
                     to_string(col.by) + " path, rank M " + std::to_string(col.rank) + " of " +
                     std::to_string(2 * r) + ", margin " + fmt(col.margin) +
                     " (min_i v_i sqrt(M_ii) / max_j |v_j| sqrt(M_jj), docs/decisions.md D4)"});
  const Vector<double>& u_ref = col.feasible ? col.optimum.u : sc.optimum.u;
  if (u_ref.allFinite()) {
    const certified::CertifiedSystem& cs = P.certified_system();
    double num = 0, den = 0;
    for (Index i = 0; i < 2 * r; ++i) {
      if (!cs.active[std::size_t(i)]) continue;
      const double w = std::sqrt(std::max(0.0, cs.Mh.mid(i, i))) * std::ldexp(1.0, int(std::max(-1000L, std::min(1000L, cs.f[std::size_t(i)]))));
      num += std::pow(w * (u_a(i) - u_ref(i)), 2);
      den += std::pow(w * u_ref(i), 2);
    }
    const double e = den > 0 ? std::sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
    out.push_back({"squared_scalings", "applied squared scalings vs the exact decision's optimum (weighted by sqrt(M_ii))",
                   check_status::info, e, 0, "relative",
                   col.rank < col.active ? "M is singular: only M u is identifiable (judged by the bound value)" : ""});
  }
  const double vanilla = P.vanilla_decrease().mid() * J.loss_scale;
  out.push_back({"bound_decrease", "predicted decrease of the loss bound (first order), applied / rule's optimum",
                 check_status::info,
                 decisive && decisive->value.mid() != 0 ? J.applied.mid() / decisive->value.mid() : 0.0, 1.0, "ratio",
                 "applied " + fmt(J.applied.mid() * J.loss_scale) + ", vanilla " + fmt(vanilla) + ", Theorem 3 " +
                     fmt(sc.optimum.value.mid() * J.loss_scale) + ", column optimum " +
                     fmt(col.optimum.value.mid() * J.loss_scale)});
}

/// Options of compare_step.
struct CompareOptions {
  scaling_mode mode = scaling_mode::hybrid;
  scaling_rule rule = scaling_rule::paper;
  /// epsilon of the type the implementation computed M, lambda and u in
  /// (double for the library and the kernels, whatever the storage type).
  double eps_compute = 0x1p-52;
  bool allow_exact = true;
  /// W_pt is stored and merged in float while the factors are S (the kernels'
  /// weight formats, gpu/layer.hpp): the W check judges in float's epsilon,
  /// with the factors and scalings as the merge used them (rounded to float).
  bool merge_in_float = false;
};

/// The bfloat16 copy of a float master is one rounding of it (gpu's
/// weight_format::bf16_master): the number of entries that are not.
inline Check bf16_copy_check(const Matrix<double>& master, const Matrix<double>& copy) {
  double off = 0;
  for (Index j = 0; j < master.cols(); ++j)
    for (Index i = 0; i < master.rows(); ++i)
      if (double(bf16_to_float(float_to_bf16(float(master(i, j))))) != copy(i, j)) ++off;
  return {"W_bf16", "W_bf16 = round_bf16(W master) (entries off)", off == 0 ? check_status::pass : check_status::fail,
          off, 0, "entries", ""};
}

/// Judges one computed step (input layer -> output layer, applied scalings
/// alpha, beta as the implementation computed them) of storage type S (float
/// or double): the library's (scalora_step), the production kernels' (their
/// host copies; gpu/tests, tools/train's shadow checks) or anyone's with
/// Eigen layers. Checks: append_scaling_checks(), the lemmas for every part
/// present in both layers (in eps of S), W unchanged when W_pt is present
/// (in float when o.merge_in_float).
template <class S>
Comparison compare_step(const Layer<S>& input, const Layer<S>& output, const Vector<double>& alpha,
                        const Vector<double>& beta, const BoundParameters<double>& bp, const CompareOptions& o = {}) {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>, "compare_step judges float or double layers");
  Comparison cmp;
  const Index r = input.A.cols();
  ScalingProblem P(input.A.template cast<double>(), input.B.template cast<double>(),
                   input.grad_A.template cast<double>(), input.grad_B.template cast<double>(), bp, o.allow_exact);
  Vector<double> u(2 * r);
  u << alpha.cwiseAbs2(), beta.cwiseAbs2();
  ImplementationModel im;
  im.eps_compute = o.eps_compute;
  im.scaling_uncertainty = o.eps_compute / 2;  // the applied alpha, beta are the computed ones
  const ScalingJudgement J = judge_scaling(P, u, im, o.rule, o.mode);
  append_scaling_checks(cmp.checks, P, J, u);

  const double eps_s = double(std::numeric_limits<S>::epsilon());
  const double min_s = double(std::numeric_limits<S>::min());
  const std::string unit = std::is_same_v<S, float> ? "eps_F32" : "eps_F64";
  // The scalings as the implementation applies them: rounded to the storage type.
  const Vector<double> alpha_s = alpha.template cast<S>().template cast<double>();
  const Vector<double> beta_s = beta.template cast<S>().template cast<double>();
  for (const RescaledPart& p : kRescaledParts) {
    const Matrix<S>& in = rescaled_part(input, p.name);
    const Matrix<S>& out = rescaled_part(output, p.name);
    if (in.size() == 0 || out.size() == 0) continue;
    cmp.checks.push_back(rescale_check(std::string("out.") + p.name, p.title, in.template cast<double>(),
                                       out.template cast<double>(), p.by_alpha ? alpha_s : beta_s, p.power, eps_s,
                                       eps_s * min_s, rescaled_entry_budget(p.power), unit));
  }
  if (input.W_pt.size() != 0 && output.W_pt.size() != 0) {
    if (o.merge_in_float) {
      const auto f = [](const Matrix<S>& x) { return Matrix<double>(x.template cast<float>().template cast<double>()); };
      const Vector<double> af = alpha.template cast<float>().template cast<double>();
      const Vector<double> bf = beta.template cast<float>().template cast<double>();
      cmp.checks.push_back(w_unchanged_check(f(input.W_pt), f(output.W_pt), f(input.A), f(input.B), f(output.A),
                                             f(output.B), af, bf, bp.lora_scale,
                                             double(std::numeric_limits<float>::epsilon()), "eps_F32"));
    } else {
      cmp.checks.push_back(w_unchanged_check(input.W_pt.template cast<double>(), output.W_pt.template cast<double>(),
                                             input.A.template cast<double>(), input.B.template cast<double>(),
                                             output.A.template cast<double>(), output.B.template cast<double>(),
                                             alpha_s, beta_s, bp.lora_scale, eps_s, unit));
    }
  }
  return cmp;
}

}  // namespace scalora::reference
