// SPDX-License-Identifier: Apache-2.0
// scalora-verify's judgement of one case file (io/case_file.hpp). The exact
// reference is recomputed from the stored inputs; every output present is
// judged by the theorems, not by bit equality:
//   the applied scaling   by the branch decision and its optimality gap, on
//                         identifiable quantities only (squared scalings where M
//                         determines them, either sign: append_scaling_checks)
//   factors, moments      the lemmas for the scaling the implementation APPLIED
//   W                     the re-split invariant W_pt' + s A'B'^T = W_pt + s A B^T
//   gradients             grad_A = s G B, grad_B = s G^T A when G is given
//   Theorem 1             the SVD bound, as context (info)
// (the last two from gradient_checks.hpp's passes over G)
// Tolerances: docs/numerics.md, "Verifier tolerances"; the report: docs/validating.md.
// Needs scalora::io (case files) and scalora::reference (Boost.Multiprecision).
#pragma once

#include <Eigen/QR>
#include <Eigen/SVD>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "scalora/io/case_file.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/svd_optimum.hpp"
#include "scalora/reference/compare.hpp"
#include "scalora/reference/gradient_checks.hpp"
#include "scalora/reference/verdict.hpp"

namespace scalora::reference {

namespace detail {

inline std::string eps_unit(io::dtype t) { return std::string("eps_") + io::safetensors_name(t); }

/// The precision the implementation computed M, lambda and u in: --compute, else
/// the metadata scalora.compute_dtype, else F64 when A, B, grad_A, grad_B (and
/// out.alpha, out.beta when given) are all F64, else F32 (bf16/f16 training
/// computes in fp32 or wider).
inline io::dtype compute_dtype(const io::Case& c, const VerifyOptions& o, std::string* why) {
  if (o.compute) {
    *why = "--compute";
    return *o.compute;
  }
  if (c.compute_type) {
    *why = "metadata scalora.compute_dtype";
    return *c.compute_type;
  }
  for (const char* name : {"A", "B", "grad_A", "grad_B", "out.alpha", "out.beta"})
    if (c.has(name) && c.dtypes.at(name) != io::dtype::f64) {
      *why = std::string("default: ") + name + " is " + io::safetensors_name(c.dtypes.at(name)) +
             " (F64 only when every input is F64)";
      return io::dtype::f32;
    }
  *why = "default: every input is F64";
  return io::dtype::f64;
}

/// The scaling of one factor as the implementation applied it, entry by entry:
/// from out.alpha when given; else fitted to out.A / A column by column
/// (alpha_j = <A_j, A'_j> / <A_j, A_j>, in R); else (A_j = 0 and no out.alpha:
/// alpha_j does not act on A' and cannot be recovered) the reference's value.
/// delta: relative uncertainty of the recovered value, half an ulp of the dtype
/// it came from (the value may have been applied before it was rounded).
struct RecoveredScaling {
  Vector<double> s;
  double delta = 0;
  Index from_case = 0, from_reference = 0;
  std::string source;
};

template <class R>
RecoveredScaling recover_scaling(const io::Case& c, const char* factor, const Matrix<double>& in,
                                 const Matrix<double>& out, const Vector<double>& given, const Vector<R>& reference) {
  RecoveredScaling rs;
  const Index r = c.r;
  const std::string sname = std::string("out.") + (factor[0] == 'A' ? "alpha" : "beta");
  rs.s.resize(r);
  if (given.size() == r) {
    rs.s = given;
    rs.delta = dtype_epsilon(c.dtypes.at(sname)) / 2;
    rs.from_case = r;
    rs.source = sname;
    return rs;
  }
  std::string unrecoverable;
  for (Index j = 0; j < r; ++j) {
    R num = 0, den = 0;
    if (out.size() != 0)
      for (Index i = 0; i < in.rows(); ++i) {
        num += R(in(i, j)) * R(out(i, j));
        den += R(in(i, j)) * R(in(i, j));
      }
    if (den > 0) {
      rs.s(j) = double(num / den);
      ++rs.from_case;
    } else {
      rs.s(j) = double(reference(j));
      ++rs.from_reference;
      unrecoverable += (unrecoverable.empty() ? "" : ", ") + std::to_string(j);
    }
  }
  if (out.size() != 0) rs.delta = dtype_epsilon(c.dtypes.at(std::string("out.") + factor)) / 2;
  if (out.size() == 0) rs.source = "reference (no " + sname + " or out." + factor + " in the case)";
  else {
    rs.source = std::string("fitted to out.") + factor + " / " + factor;
    if (!unrecoverable.empty())
      rs.source += "; columns " + unrecoverable + " of " + factor + " are zero: the reference's value";
  }
  return rs;
}

/// Spread of the entries of u (first or second half) relative to their size.
inline double relative_spread(const Vector<double>& u) {
  if (u.size() == 0) return 0;
  const double hi = u.maxCoeff(), lo = u.minCoeff(), big = std::max(std::abs(hi), std::abs(lo));
  return big > 0 ? (hi - lo) / big : 0.0;
}

/// The re-split invariant for layers of any size, in double (O(m n r) flops):
///   D     = (W_pt' - W_pt) + s [A', -A] [B', B]^T
///   scale = |W_pt| + s |A| diag(1 + |alpha beta| + |1 - alpha beta|) |B|^T     (budget::resplit)
///   own   = (2r + 6) eps_64 (|W_pt'| + |W_pt| + s [|A'|, |A|] [|B'|, |B|]^T)
/// `own` bounds the error of evaluating D in double (2r + 1 terms, each product,
/// difference and the scaling by s rounded once; Higham 3.1). The value is
/// max_ij max(0, |D_ij| - own_ij) / (eps scale_ij): the benefit of the doubt
/// goes to the implementation, and own is below 2^-26 of the budget for
/// F32/BF16/F16 outputs. Columns in blocks of 512 (three m x 512 buffers).
inline Check w_unchanged_check(const Matrix<double>& W0, const Matrix<double>& W1, const Matrix<double>& A,
                               const Matrix<double>& B, const Matrix<double>& A1, const Matrix<double>& B1,
                               const Vector<double>& alpha, const Vector<double>& beta, double s, double eps) {
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
        const double diff = std::abs((w1 - w0) + s * d(i, j));
        const double slack = own_k * (std::abs(w1) + std::abs(w0) + s * own(i, j));
        const double sc = std::abs(w0) + s * scale(i, j);
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
  return {"W_pt' + s A' B'^T = W_pt + s A B^T (eps)", worst <= budget::resplit(r), worst, budget::resplit(r),
          wi >= 0 ? "worst at (" + std::to_string(wi) + "," + std::to_string(wj) + ")" : "", "W_unchanged"};
}

/// grad = s X Y against the stored gradient, normwise (gradient_checks.hpp):
///   value = ||grad - s X Y||_F / (s || |X| |Y| ||_F) / eps,   budget (k + 2)(1 + eps_64 / eps),
/// k = the inner dimension: one dot product of length k per entry (gamma_k,
/// Higham 3.1) for the implementation and again for this evaluation in double.
/// The batch sum that formed G and the gradients is not in the case: where it
/// cancels heavily the implementation's error can exceed this (override with --tol).
inline VerifyCheck gradient_check(const std::string& id, const std::string& name, const GradientConsistency& g,
                                  double eps, const std::string& unit) {
  const double value = g.at_s.value / eps;
  const double k = double(g.inner);
  return {id, name, check_status::pass, std::isnan(value) ? INFINITY : value,
          (k + 2) * (1 + std::numeric_limits<double>::epsilon() / eps), unit,
          "normwise, relative to s || |X| |Y| ||_F; inner dimension " + std::to_string(g.inner)};
}

class Stopwatch {
 public:
  double lap() {
    const auto now = std::chrono::steady_clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

inline std::vector<double> to_std(const Vector<double>& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

}  // namespace detail

/// Judges one case. Every check of the verdict has value and tolerance in the
/// unit it names; VerifyOptions scale or replace tolerances by id.
/// @throws invalid_argument only for inputs the case reader lets through and
/// the reference rejects (none known); io_error never (the case is read already).
template <class R = mp50>
Verdict verify_case(const io::Case& c, const VerifyOptions& o) {
  detail::Stopwatch clock;
  Verdict v;
  const Index m = c.m, n = c.n, r = c.r;
  v.source = c.source;
  v.m = long(m);
  v.n = long(n);
  v.r = long(r);
  v.L = c.bound.L;
  v.lr = c.bound.lr;
  v.lora_scale = c.bound.lora_scale;
  v.dtypes = c.dtypes;
  v.compute = detail::compute_dtype(c, o, &v.compute_reason);
  v.mode = o.mode ? *o.mode : c.mode;
  const double eps_c = dtype_epsilon(v.compute);
  const std::string unit_c = detail::eps_unit(v.compute);
  for (const std::string& name : c.ignored) v.notes.push_back("tensor '" + name + "' is not part of the case format: ignored");

  // The reference: exact decision, then the part of M resolvable in the compute precision.
  const ReferenceScaling<R> exact =
      reference_scaling<R>(c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, c.bound, v.mode);
  const BoundParameters<R> bpr{R(c.bound.L), R(c.bound.lr), R(c.bound.lora_scale)};
  const ReferenceScaling<R> ref = resolvable_reference(exact, m, n, eps_c, bpr, v.mode);
  v.seconds.emplace_back("reference (exact decision)", clock.lap());
  v.reference_branch = ref.applied;
  v.reference_kind = ref.applied == branch::column ? std::string("column") : std::string("scalar, ") + to_string(ref.scalar_kind);
  v.rank_M = long(exact.column.rank);
  v.margin = ref.margin;
  v.reference_exact = ref.exact && !ref.resolved;
  v.reference_alpha = detail::to_std(ref.alpha.template cast<double>());
  v.reference_beta = detail::to_std(ref.beta.template cast<double>());
  v.decrease_vanilla = double(ref.vanilla_bound_decrease);
  v.decrease_scalar = double(ref.scalar_bound_decrease);
  v.decrease_column = double(ref.column_bound_decrease);
  if (ref.resolved)
    v.notes.push_back("M has directions below the resolution of " + std::string(io::safetensors_name(v.compute)) +
                      ": the reference is the exact one restricted to M's resolvable part (rank " +
                      std::to_string(ref.column.rank) + ")");

  // The applied scaling.
  const detail::RecoveredScaling ra =
      detail::recover_scaling<R>(c, "A", c.input.A, c.output.A, c.out_alpha, ref.alpha);
  const detail::RecoveredScaling rb = detail::recover_scaling<R>(c, "B", c.input.B, c.output.B, c.out_beta, ref.beta);
  v.alpha_source = ra.source;
  v.beta_source = rb.source;
  const bool known = ra.from_case + rb.from_case > 0;
  Comparison cmp;
  if (known) {
    v.alpha = detail::to_std(ra.s);
    v.beta = detail::to_std(rb.s);
    Scaling<double> applied;
    applied.alpha = ra.s;
    applied.beta = rb.s;
    applied.u.resize(2 * r);
    applied.u << ra.s.cwiseAbs2(), rb.s.cwiseAbs2();
    applied.scalar_kind = ref.scalar_kind;  // not in a case file: Theorem 3's label is not judged
    // u = s^2 recovered to 2 delta (+ its rounding in double).
    const double extra = 2.01 * std::max(ra.delta, rb.delta) + std::numeric_limits<double>::epsilon();
    // The branch label: the implementation's scaling is read as scalar when
    // it is one (every alpha equal, every beta equal, within its uncertainty)
    // and the reference is scalar; a non-constant scaling is a column scaling.
    const double flat = 4 * extra + 64 * eps_c;
    const bool scalar_shaped = detail::relative_spread(applied.u.head(r)) <= flat &&
                               detail::relative_spread(applied.u.tail(r)) <= flat;
    applied.applied = ref.applied == branch::scalar && !scalar_shaped ? branch::column : ref.applied;
    append_scaling_checks(cmp, applied, ref, exact, bpr, m, n, eps_c, extra);
    v.decrease_applied = double(bound_decrease(ref.system, applied.u.template cast<R>().eval(), bpr));
  } else {
    v.checks.push_back({"scalings", "the applied scaling (Theorems 3, 5)", check_status::skip, 0, 0, "",
                        "no out.alpha, out.beta, out.A or out.B in the case"});
  }
  for (const Check& k : cmp.checks) {
    const bool eps_unit = k.id == "branch" || k.id == "squared_scalings";
    v.checks.push_back({k.id, k.name, k.passed ? check_status::pass : check_status::fail, k.value, k.budget,
                        eps_unit ? unit_c : "relative", k.detail});
  }

  // Factors, gradients and moments: the lemmas for the applied scaling.
  for (const RescaledPart& p : kRescaledParts) {
    const Matrix<double>& out = rescaled_part(c.output, p.name);
    if (out.size() == 0) continue;
    const std::string id = std::string("out.") + p.name;
    const detail::RecoveredScaling& rs = p.by_alpha ? ra : rb;
    const double eps = dtype_epsilon(c.dtypes.at(id));
    const double base = p.power == 2 ? budget::rescaled_second_moment() : budget::rescaled_entry();
    const Check k = rescale_check<R>(p.title, id, rescaled_part(c.input, p.name), out, rs.s, p.power, eps,
                                     base + p.power * rs.delta / eps);
    v.checks.push_back({id, std::string(p.title) + " (" + (p.by_alpha ? "alpha: " : "beta: ") + rs.source + ")",
                        k.passed ? check_status::pass : check_status::fail, k.value, k.budget,
                        detail::eps_unit(c.dtypes.at(id)), k.detail});
  }
  v.seconds.emplace_back("scaling, factors and moments", clock.lap());

  // W unchanged by the re-split.
  if (c.output.W_pt.size() != 0) {
    const Matrix<double> A1 = c.output.A.size() ? c.output.A : Matrix<double>(c.input.A * ra.s.asDiagonal());
    const Matrix<double> B1 = c.output.B.size() ? c.output.B : Matrix<double>(c.input.B * rb.s.asDiagonal());
    io::dtype wt = c.dtypes.at("out.W_pt");
    for (const char* name : {"out.A", "out.B"})
      if (c.has(name) && dtype_epsilon(c.dtypes.at(name)) > dtype_epsilon(wt)) wt = c.dtypes.at(name);
    const Check k = detail::w_unchanged_check(c.input.W_pt, c.output.W_pt, c.input.A, c.input.B, A1, B1, ra.s, rb.s,
                                              c.bound.lora_scale, dtype_epsilon(wt));
    v.checks.push_back({k.id, k.name, k.passed ? check_status::pass : check_status::fail, k.value, k.budget,
                        detail::eps_unit(wt),
                        k.detail + (c.output.A.size() && c.output.B.size() ? "" : "; A', B' formed from the applied scaling")});
    v.seconds.emplace_back("W unchanged", clock.lap());
  }

  // Gradients against G, and Theorem 1.
  if (c.G.size() != 0) {
    const double s = c.bound.lora_scale;
    auto eps_g = [&](const char* grad) {
      io::dtype t = c.dtypes.at(grad);
      if (dtype_epsilon(c.dtypes.at("G")) > dtype_epsilon(t)) t = c.dtypes.at("G");
      if (eps_c > dtype_epsilon(t)) t = v.compute;
      return t;
    };
    const io::dtype ta = eps_g("grad_A"), tb = eps_g("grad_B");
    const GChecks g = g_checks(c.G, c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, s, 2 * r);
    v.checks.push_back(detail::gradient_check("grad_A_vs_G", "grad_A = s G B", g.gradients.grad_A, dtype_epsilon(ta),
                                              detail::eps_unit(ta)));
    v.checks.push_back(detail::gradient_check("grad_B_vs_G", "grad_B = s G^T A", g.gradients.grad_B, dtype_epsilon(tb),
                                              detail::eps_unit(tb)));
    v.decrease_svd = g.theorem1.lower / (2 * c.bound.L);
    const double applied = std::isnan(v.decrease_applied) ? double(ref.bound_decrease) : v.decrease_applied;
    v.checks.push_back({"theorem1", "Theorem 1: decrease of the applied scaling / SVD optimum's", check_status::info,
                        v.decrease_svd > 0 ? applied / v.decrease_svd : 0.0, 1.0, "relative",
                        std::string("SVD optimum sum_{i<=2r} sigma_i^2 / (2L) = ") + std::to_string(v.decrease_svd) +
                            (g.theorem1.exact ? " (exact)"
                                              : " (certified lower bound; upper " +
                                                    std::to_string(g.theorem1.upper / (2 * c.bound.L)) + ")") +
                            (std::isnan(v.decrease_applied) ? "; applied scaling unknown: the reference's" : "")});
    v.seconds.emplace_back("G: gradients and Theorem 1", clock.lap());
  } else {
    v.checks.push_back({"theorem1", "Theorem 1: decrease of the applied scaling / SVD optimum's", check_status::skip,
                        0, 1.0, "relative", "needs G"});
  }
  v.checks.push_back({"bound_decrease", "predicted decrease of the loss bound, applied / reference decision's",
                      std::isnan(v.decrease_applied) ? check_status::skip : check_status::info,
                      ref.bound_decrease > 0 ? v.decrease_applied / double(ref.bound_decrease) : 0.0, 1.0, "relative",
                      "vanilla " + std::to_string(v.decrease_vanilla) + ", scalar " + std::to_string(v.decrease_scalar) +
                          ", column " + std::to_string(v.decrease_column) + ", applied " +
                          std::to_string(v.decrease_applied)});

  // Tolerance scaling and overrides; the status follows value <= tolerance.
  for (VerifyCheck& k : v.checks) {
    if (k.status != check_status::pass && k.status != check_status::fail) continue;
    k.tolerance *= o.eps_scale;
    if (const auto it = o.tolerance.find(k.id); it != o.tolerance.end()) k.tolerance = it->second;
    k.status = k.value <= k.tolerance ? check_status::pass : check_status::fail;
  }
  return v;
}

template <class R = mp50>
ReferenceOutputs reference_outputs(const io::Case& c) {
  ReferenceOutputs out;
  StepOptions<double> so;
  so.bound = c.bound;
  so.mode = c.mode;
  const bool large = double(c.m) * double(c.n) > double(1 << 20);
  if (!large) {
    const ReferenceStep<R> st = reference_step<R>(c.input, so);
    const auto from = io::layer_parts(st.layer);
    const auto to = io::layer_parts(out.layer);
    for (std::size_t k = 0; k < from.size(); ++k) *to[k].second = from[k].second->template cast<double>();
    out.alpha = st.scaling.alpha.template cast<double>();
    out.beta = st.scaling.beta.template cast<double>();
    out.applied = st.scaling.applied;
    out.kind = st.scaling.applied == branch::column ? "column" : std::string("scalar, ") + to_string(st.scaling.scalar_kind);
    out.rank = st.scaling.column.rank;
    return out;
  }
  scalora::detail::check_layer(c.input, true);
  const ReferenceScaling<R> sc =
      reference_scaling<R>(c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, c.bound, c.mode);
  out.alpha = sc.alpha.template cast<double>();
  out.beta = sc.beta.template cast<double>();
  out.applied = sc.applied;
  out.kind = sc.applied == branch::column ? "column" : std::string("scalar, ") + to_string(sc.scalar_kind);
  out.rank = sc.column.rank;
  Layer<double>& l = out.layer;
  l = c.input;
  if (l.W_pt.size() != 0) resplit(l.W_pt, l.A, l.B, out.alpha, out.beta, c.bound.lora_scale);
  rescale_factors(l.A, l.B, out.alpha, out.beta);
  rescale_gradients(l.grad_A, l.grad_B, out.alpha, out.beta);
  if (!l.moments.empty()) transfer_moments(l.moments, out.alpha, out.beta);
  return out;
}

}  // namespace scalora::reference
