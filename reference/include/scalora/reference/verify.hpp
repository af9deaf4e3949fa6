// SPDX-License-Identifier: Apache-2.0
// scalora-verify's judgement of one case file (io/case_file.hpp). Every output
// present is judged by what the theorems guarantee, not by bit equality:
//   the applied scaling   by the exact value of the loss bound's decrease
//                         against the rule's optimum (optimality: pass, fail or
//                         inconclusive; judgement.hpp), with the branch and the
//                         squared scalings as diagnostics
//   factors, moments      the lemmas for the scaling the implementation APPLIED
//   W                     the re-split invariant W_pt' + lora_scale A'B'^T = W_pt + lora_scale A B^T
//   gradients             grad_A = lora_scale G B, grad_B = lora_scale G^T A when G is given
//   Theorem 1             the SVD bound, as context (info)
// (the last two from gradient_checks.hpp's passes over G).
// Precision follows the data: each tensor is judged in the precision its
// values carry (the narrowest float type holding all of them exactly), the
// compute precision comes from --compute, the metadata, or the inputs.
// Tolerances: docs/numerics.md, "Verifier tolerances"; the report: docs/validating.md.
#pragma once

#include <Eigen/QR>
#include <Eigen/SVD>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "scalora/io/case_file.hpp"
#include "scalora/linalg/random.hpp"
#include "scalora/linalg/svd_optimum.hpp"
#include "scalora/reference/compare.hpp"
#include "scalora/reference/gradient_checks.hpp"
#include "scalora/reference/step.hpp"
#include "scalora/reference/verdict.hpp"

namespace scalora::reference {

namespace detail {

inline std::string eps_unit(io::dtype t) { return std::string("eps_") + io::safetensors_name(t); }

/// The precision the implementation computed M, lambda and u in: --compute,
/// else the metadata scalora.compute_dtype, else F64 when one of A, B, grad_A,
/// grad_B carries F64 values (not all representable in F32), else F32
/// (bf16/f16 training computes in fp32 or wider).
inline io::dtype compute_dtype(const io::Case& c, const std::map<std::string, io::dtype>& carried,
                               const VerifyOptions& o, std::string* why) {
  if (o.compute) {
    *why = "--compute";
    return *o.compute;
  }
  if (c.compute_type) {
    *why = "metadata scalora.compute_dtype";
    return *c.compute_type;
  }
  for (const char* name : {"A", "B", "grad_A", "grad_B"})
    if (carried.at(name) == io::dtype::f64) {
      *why = std::string("inferred: ") + name + " carries F64 values";
      return io::dtype::f64;
    }
  *why = "inferred: A, B, grad_A, grad_B carry at most F32 precision";
  for (const char* name : {"A", "B", "grad_A", "grad_B"})
    if (c.dtypes.at(name) == io::dtype::f64) {
      *why += " (stored as F64)";
      break;
    }
  return io::dtype::f32;
}

/// The scaling of one factor as the implementation applied it: from out.alpha
/// (out.beta) when given; else recovered from out.A / A (out.B / B) at the
/// entry of largest |A_ij| of each column; else (A_j = 0 and no out.alpha:
/// alpha_j does not act on A' and cannot be recovered; the coordinate does
/// not enter the bound) 1 (decisions D5).
/// delta: relative uncertainty of the recovered value: half an ulp of the
/// stored out.alpha, or of the precision out.A's values carry (a bf16 model
/// dumped as F32 rounded them to bf16) plus the division's rounding.
struct RecoveredScaling {
  Vector<double> s;
  double delta = 0;
  Index from_case = 0, unrecoverable = 0;
  std::string source;
};

inline RecoveredScaling recover_scaling(const io::Case& c, const std::map<std::string, io::dtype>& carried,
                                        const char* factor, const Matrix<double>& in, const Matrix<double>& out,
                                        const Vector<double>& given) {
  RecoveredScaling rs;
  const Index r = c.r;
  const std::string sname = std::string("out.") + (factor[0] == 'A' ? "alpha" : "beta");
  rs.s = Vector<double>::Ones(r);
  if (given.size() == r) {
    // As stored: a scaling computed in a coarser precision is covered by the
    // compute precision's own term (judgement.hpp).
    rs.s = given;
    rs.delta = io::epsilon(c.dtypes.at(sname)) / 2;
    rs.from_case = r;
    rs.source = sname;
    return rs;
  }
  std::string missing;
  for (Index j = 0; j < r; ++j) {
    Index best = -1;
    if (out.size() != 0)
      for (Index i = 0; i < in.rows(); ++i)
        if (in(i, j) != 0 && (best < 0 || std::abs(in(i, j)) > std::abs(in(best, j)))) best = i;
    if (best >= 0) {
      rs.s(j) = out(best, j) / in(best, j);
      ++rs.from_case;
    } else {
      ++rs.unrecoverable;
      missing += (missing.empty() ? "" : ", ") + std::to_string(j);
    }
  }
  const std::string oname = std::string("out.") + factor;
  if (out.size() != 0) rs.delta = io::epsilon(carried.at(oname)) / 2 + 0x1p-53;
  if (out.size() == 0) rs.source = "not in the case (no " + sname + " or " + oname + ")";
  else {
    rs.source = "recovered from " + oname + " / " + factor;
    if (!missing.empty()) rs.source += "; columns " + missing + " of " + factor + " are zero (scaling 1)";
  }
  return rs;
}

/// grad = lora_scale X Y against the stored gradient, normwise (gradient_checks.hpp):
///   value = ||grad - lora_scale X Y||_F / (lora_scale || |X| |Y| ||_F) / eps,   budget (k + 2)(1 + eps_64 / eps),
/// k = the inner dimension: one dot product of length k per entry (gamma_k,
/// Higham 3.1) for the implementation and again for this evaluation in double.
/// The batch sum that formed G and the gradients is not in the case: where it
/// cancels heavily the implementation's error can exceed this (override with --tol).
/// When the gradients agree with xi lora_scale X Y for one factor xi != 1 within
/// the budget but not with lora_scale X Y, the detail says so: a global gradient-clipping
/// coefficient applied to the gradients and not to G is the usual cause
/// (docs/validating.md, "G traps").
inline Check gradient_check(const std::string& id, const std::string& name, const GradientConsistency& g, double eps,
                            const std::string& unit) {
  const double value = std::isnan(g.at_s.value) ? INFINITY : g.at_s.value / eps;
  const double k = double(g.inner);
  const double budget = (k + 2) * (1 + std::numeric_limits<double>::epsilon() / eps);
  std::string detail = "normwise, relative to lora_scale || |X| |Y| ||_F; inner dimension " + std::to_string(g.inner);
  const double after = g.after_factor.value / eps;
  if (value > budget && after <= budget)
    detail += "; the gradients equal " + std::to_string(g.factor) + " lora_scale G B within the budget (" +
              std::to_string(after) + " eps): G and the gradients differ by one uniform factor, "
              "usually a global gradient-clipping coefficient (dump G after clipping, or the unclipped gradients)";
  return {id, name, value <= budget ? check_status::pass : check_status::fail, value, budget, unit, detail};
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

/// Notes for applied scalings the bound does not determine: alpha_j where
/// X_j = A_j grad_B_j^T = 0 (A's or grad_B's column j is zero), beta_j where
/// Y_j = grad_A_j B_j^T = 0. Any value is optimal there, so the verdict accepts
/// it; a value other than the canonical 1 (decisions D5) still rescales the
/// other factor's AdamW moments (0 wipes that column's), which the note says.
inline void undetermined_scaling_notes(const io::Case& c, const RecoveredScaling& rs, bool alpha,
                                       std::vector<std::string>& notes) {
  const Matrix<double>& F = alpha ? c.input.A : c.input.B;
  const Matrix<double>& g = alpha ? c.input.grad_B : c.input.grad_A;
  const char* name = alpha ? "alpha" : "beta";
  const char* own = alpha ? "A" : "B";
  const char* other = alpha ? "B" : "A";
  for (Index j = 0; j < c.r; ++j) {
    const bool zero_factor = (F.col(j).array() == 0).all(), zero_grad = (g.col(j).array() == 0).all();
    if (!zero_factor && !zero_grad) continue;
    if (zero_factor && rs.source.rfind("out.", 0) != 0) continue;  // not recoverable: 1 was used
    const double s = rs.s(j);
    if (std::abs(std::abs(s) - 1) <= 4 * rs.delta + 0x1p-50) continue;
    char value[32];
    std::snprintf(value, sizeof value, "%.6g", s);
    const std::string col = std::to_string(j);
    std::string note = std::string(name) + "_" + col + " = " + value + " on column " + col + ", where " +
                       (alpha ? "X_" : "Y_") + col + " = 0 (" + (zero_factor ? own : alpha ? "grad_B" : "grad_A") +
                       "'s column " + col + " is zero): the bound does not determine it, so any value passes; the " +
                       "canonical choice is 1 (docs/decisions.md D5). ";
    if (s == 0)
      note += "This value wipes column " + col + " of " + other + "'s AdamW moments (exp_avg_" + other +
              ", exp_avg_sq_" + other + " scaled by 0)";
    else
      note += "It rescales column " + col + " of " + other + "'s AdamW moments by " + value + " (exp_avg_sq_" +
              other + " by its square)";
    if (!zero_factor) note += std::string(" and ") + own + "'s column " + col;
    notes.push_back(note);
  }
}

}  // namespace detail

/// Judges one case. Every check of the verdict has value and tolerance in the
/// unit it names; VerifyOptions scale or replace tolerances by id.
/// @throws invalid_argument only for inputs the case reader lets through and
/// the reference rejects (none known); io_error never (the case is read already).
inline Verdict verify_case(const io::Case& c, const VerifyOptions& o) {
  detail::Stopwatch clock;
  Verdict v;
  const Index m = c.m, n = c.n, r = c.r;
  v.source = c.source;
  v.m = long(m);
  v.n = long(n);
  v.r = long(r);
  v.bound = c.bound;
  v.dtypes = c.dtypes;
  v.rule = o.rule;
  v.mode = o.mode ? *o.mode : c.mode;
  for (const std::string& name : c.ignored) v.notes.push_back("tensor '" + name + "' is not part of the case format: ignored");

  // The precision each tensor's values carry (io::value_dtype, computed by the reader).
  v.value_dtypes = c.value_dtypes;
  for (const auto& [name, carried] : c.value_dtypes) {
    const io::dtype stored = c.dtypes.at(name);
    if (carried != stored && io::is_floating(stored) && name != "L" && name != "lr" && name != "lora_scale")
      v.notes.push_back("'" + name + "' is stored as " + io::safetensors_name(stored) + " but every value is a " +
                        io::safetensors_name(carried) + ": judged in " + detail::eps_unit(carried));
  }
  v.compute = detail::compute_dtype(c, v.value_dtypes, o, &v.compute_reason);
  const double eps_c = io::epsilon(v.compute);
  v.seconds.emplace_back("precision of the data", clock.lap());

  // The problem, and what the theorems say about it.
  ScalingProblem P(c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, c.bound, !o.certified_only);
  const double loss_scale = c.bound.lr / (c.bound.lora_scale * c.bound.lora_scale);
  const ColumnFacts& col = P.column();
  const ScalarFacts& sf = P.scalar();
  const bool column_rule = v.mode == scaling_mode::hybrid && col.feasible;
  v.reference_branch = column_rule ? branch::column : branch::scalar;
  v.reference_kind = column_rule ? std::string("column") : std::string("scalar, ") + to_string(sf.kind);
  v.rank_M = long(col.rank);
  v.margin = col.margin;
  const Vector<double>& u_ref = column_rule ? col.optimum.u : sf.optimum.u;
  v.reference_alpha = detail::to_std(u_ref.head(r).cwiseSqrt());
  v.reference_beta = detail::to_std(u_ref.tail(r).cwiseSqrt());
  v.decrease_vanilla = P.vanilla_decrease().mid() * loss_scale;
  v.decrease_scalar = sf.optimum.value.mid() * loss_scale;
  v.decrease_column = col.optimum.value.mid() * loss_scale;
  v.seconds.emplace_back("the exact decision and optima", clock.lap());

  // The applied scaling.
  const detail::RecoveredScaling ra =
      detail::recover_scaling(c, v.value_dtypes, "A", c.input.A, c.output.A, c.out_alpha);
  const detail::RecoveredScaling rb =
      detail::recover_scaling(c, v.value_dtypes, "B", c.input.B, c.output.B, c.out_beta);
  v.alpha_source = ra.source;
  v.beta_source = rb.source;
  if (c.output.A.size() != 0 || c.out_alpha.size() == r) detail::undetermined_scaling_notes(c, ra, true, v.notes);
  if (c.output.B.size() != 0 || c.out_beta.size() == r) detail::undetermined_scaling_notes(c, rb, false, v.notes);
  if (ra.from_case + rb.from_case > 0) {
    v.alpha = detail::to_std(ra.s);
    v.beta = detail::to_std(rb.s);
    Vector<double> u(2 * r);
    u << ra.s.cwiseAbs2(), rb.s.cwiseAbs2();
    if (!u.allFinite()) {
      v.checks.push_back({"optimality", "decrease of the loss bound by the applied scaling", check_status::fail,
                          INFINITY, 0, "relative", "the applied scaling is not finite"});
    } else {
      ImplementationModel im;
      im.eps_compute = eps_c;
      im.scaling_uncertainty = std::max(ra.delta, rb.delta);
      const ScalingJudgement J = judge_scaling(P, u, im, o.rule, v.mode);
      append_scaling_checks(v.checks, P, J, u);
      v.flip_possible = J.flip_possible;
      v.decrease_applied = J.applied.mid() * loss_scale;
      if (J.decisive >= 0) v.decrease_target = J.targets[std::size_t(J.decisive)].value.mid() * loss_scale;
      for (const auto& [what, by] : J.decisions) v.decisions.emplace_back(what, to_string(by));
    }
  } else {
    v.checks.push_back({"scalings", "the applied scaling (Theorems 3, 5)", check_status::skip, 0, 0, "",
                        "no out.alpha, out.beta, out.A or out.B in the case"});
  }
  v.seconds.emplace_back("optimality verdict", clock.lap());

  // Factors, gradients and moments: the lemmas for the applied scaling.
  for (const RescaledPart& p : kRescaledParts) {
    const Matrix<double>& out = rescaled_part(c.output, p.name);
    if (out.size() == 0) continue;
    const std::string id = std::string("out.") + p.name;
    const detail::RecoveredScaling& rs = p.by_alpha ? ra : rb;
    // Relative to the precision the values carry, with the subnormal floor of
    // the stored type (a bf16-valued F16 tensor still rounds subnormals at F16's spacing).
    const io::dtype t = v.value_dtypes.at(id), stored = c.dtypes.at(id);
    const double eps = io::epsilon(t);
    const double floor = std::max(eps * io::min_normal(t), io::epsilon(stored) * io::min_normal(stored));
    Check k = rescale_check(id, p.title, rescaled_part(c.input, p.name), out, rs.s, p.power, eps, floor,
                            rescaled_entry_budget(p.power) + p.power * rs.delta / eps, detail::eps_unit(t));
    k.name += std::string(" (") + (p.by_alpha ? "alpha: " : "beta: ") + rs.source + ")";
    v.checks.push_back(k);
  }
  v.seconds.emplace_back("factors and moments", clock.lap());

  // W unchanged by the re-split.
  if (c.output.W_pt.size() != 0) {
    const Matrix<double> A1 = c.output.A.size() ? c.output.A : Matrix<double>(c.input.A * ra.s.asDiagonal());
    const Matrix<double> B1 = c.output.B.size() ? c.output.B : Matrix<double>(c.input.B * rb.s.asDiagonal());
    io::dtype wt = v.value_dtypes.at("out.W_pt");
    for (const char* name : {"out.A", "out.B"})
      if (v.value_dtypes.count(name) && io::epsilon(v.value_dtypes.at(name)) > io::epsilon(wt))
        wt = v.value_dtypes.at(name);
    Check k = w_unchanged_check(c.input.W_pt, c.output.W_pt, c.input.A, c.input.B, A1, B1, ra.s, rb.s,
                                c.bound.lora_scale, io::epsilon(wt), detail::eps_unit(wt));
    if (!(c.output.A.size() && c.output.B.size())) k.detail += "; A', B' formed from the applied scaling";
    v.checks.push_back(k);
    v.seconds.emplace_back("W unchanged", clock.lap());
  }

  // Gradients against G, and Theorem 1.
  if (c.G.size() != 0) {
    const double s = c.bound.lora_scale;
    auto eps_g = [&](const char* grad) {
      io::dtype t = v.value_dtypes.at(grad);  // the precision the values carry
      if (io::epsilon(v.value_dtypes.at("G")) > io::epsilon(t)) t = v.value_dtypes.at("G");
      if (eps_c > io::epsilon(t)) t = v.compute;
      return t;
    };
    const io::dtype ta = eps_g("grad_A"), tb = eps_g("grad_B");
    const GChecks g = g_checks(c.G, c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, s, 2 * r);
    Check ga = detail::gradient_check("grad_A_vs_G", "grad_A = lora_scale G B", g.gradients.grad_A, io::epsilon(ta),
                                      detail::eps_unit(ta));
    Check gb = detail::gradient_check("grad_B_vs_G", "grad_B = lora_scale G^T A", g.gradients.grad_B, io::epsilon(tb),
                                      detail::eps_unit(tb));
    v.checks.push_back(ga);
    v.checks.push_back(gb);
    v.decrease_svd = g.theorem1.lower / (2 * c.bound.L);
    const double applied = std::isnan(v.decrease_applied) ? v.decrease_column : v.decrease_applied;
    v.checks.push_back({"theorem1", "Theorem 1: decrease of the applied scaling / SVD optimum's", check_status::info,
                        v.decrease_svd > 0 ? applied / v.decrease_svd : 0.0, 1.0, "relative",
                        std::string("SVD optimum sum_{i<=2r} sigma_i^2 / (2L) = ") + std::to_string(v.decrease_svd) +
                            (g.theorem1.exact ? " (exact)"
                                              : " (certified lower bound; upper " +
                                                    std::to_string(g.theorem1.upper / (2 * c.bound.L)) + ")") +
                            (std::isnan(v.decrease_applied) ? "; applied scaling unknown: the column optimum's" : "")});
    v.seconds.emplace_back("G: gradients and Theorem 1", clock.lap());
  } else {
    v.checks.push_back({"theorem1", "Theorem 1: decrease of the applied scaling / SVD optimum's", check_status::skip,
                        0, 1.0, "relative", "needs G"});
  }
  if (P.exact_used()) v.notes.push_back("the exact path (FLINT) decided at least one comparison");

  // Tolerance scaling and overrides; the status then follows value <= tolerance.
  for (Check& k : v.checks) {
    if (!k.decides()) continue;
    const auto it = o.tolerance.find(k.id);
    if (o.eps_scale == 1 && it == o.tolerance.end()) continue;
    k.tolerance *= o.eps_scale;
    if (it != o.tolerance.end()) k.tolerance = it->second;
    k.status = k.value <= k.tolerance ? check_status::pass : check_status::fail;
    k.detail += "; tolerance set by --eps-scale/--tol";
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
    const ReferenceStep<R> st = scalora_step<R>(c.input, so);
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
      optimal_scaling<R>(c.input.A, c.input.B, c.input.grad_A, c.input.grad_B, c.bound, c.mode);
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
