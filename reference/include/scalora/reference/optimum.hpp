// SPDX-License-Identifier: Apache-2.0
// What the theorems say about one layer's step, decided with certainty:
// the exact decision of Theorem 5's condition and the exact optimal decreases
// of the loss bound (Theorem 5's column optimum, Theorem 3's scalar optimum,
// the best non-negative column scaling), each known by a rigorous enclosure
// and, where the enclosure cannot decide a comparison, exactly.
//
// All values are in the unit of the bound decrease divided by lr / lora_scale^2,
//   delta(u) = lambda^T u - (kappa / 2) u^T M u,   u = [alpha o alpha; beta o beta],
// (linalg/optimal_scaling.hpp, bound_decrease; docs/theory.md (*)).
// Paths (docs/numerics.md, "The reference's engine"): certified.hpp first
// (double with rigorous bounds, and Arb balls for the small arithmetic);
// exact.hpp (FLINT) only when an enclosure straddles the threshold, or when M
// is singular (a certified solve cannot prove anything about it).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scalora/core/nnls.hpp"
#include "scalora/reference/certified.hpp"
#include "scalora/reference/exact.hpp"
#include "scalora/reference/flint.hpp"

namespace scalora::reference {

/// Which path decided a comparison (reported per comparison in the verdict).
enum class decided_by : unsigned char {
  certified,  ///< a rigorous enclosure in double / Arb balls
  exact,      ///< exact rational arithmetic (FLINT)
  undecided,  ///< the enclosure could not decide and the exact path was not allowed
};

inline const char* to_string(decided_by d) {
  switch (d) {
    case decided_by::certified: return "certified";
    case decided_by::exact: return "exact";
    case decided_by::undecided: return "undecided";
  }
  return "?";
}

/// An optimum of delta over a set of scalings: its value (enclosed; exact when
/// the exact path computed it) and an approximation of a maximiser (for
/// budgets and diagnostics only; verdicts use values).
struct BoundOptimum {
  Ball value;
  std::optional<exact_rational> exact_value;
  Vector<double> u;  ///< squared scalings of a maximiser, rounded to double (+inf where they overflow)
  decided_by by = decided_by::certified;
};

/// Theorem 5's condition and the unconstrained column optimum.
struct ColumnFacts {
  bool feasible = false;      ///< some v >= 0 solves M v = lambda (exact decision)
  decided_by by = decided_by::certified;
  Index rank = 0;             ///< rank of M (2r when the certified solve succeeded)
  Index active = 0;           ///< coordinates with M_ii != 0
  bool consistent = true;     ///< lambda in range(M) (false only for singular M, D5)
  /// |lambda - M v| of the least-squares solution v when !consistent (0
  /// otherwise): how far the stored gradients are from being of one G along
  /// M's null space. The optimum is that of the consistent part; budgets widen
  /// by |lambda - M v|^T |u| (judgement.hpp).
  Vector<double> inconsistency;
  /// min_i v_i sqrt(M_ii) / max_j |v_j| sqrt(M_jj) of the (least-change) solution: the
  /// signed distance of the decision from its boundary (docs/decisions.md D4).
  double margin = 0;
  BoundOptimum optimum;       ///< max over all column scalings of delta (= Theorem 5's when feasible)
  /// The certified solution y = E v of the scaled system (certified.hpp) when it exists.
  std::optional<certified::EnclosedVector> y;
};

/// Theorem 3.
struct ScalarFacts {
  scalar_case kind = scalar_case::interior;
  decided_by by = decided_by::certified;
  double a = 1, b = 1;  ///< squared scalings, rounded to double
  BoundOptimum optimum;
};

/// One layer's inputs and the facts derived from them, computed on first use.
class ScalingProblem {
 public:
  /// A (m x r), B (n x r), grad_A, grad_B: the stored values (exact doubles,
  /// finite); bound: L, lr, s. allow_exact = false turns every comparison an
  /// enclosure cannot decide into decided_by::undecided (scalora-verify
  /// --certified-only).
  ScalingProblem(Matrix<double> A, Matrix<double> B, Matrix<double> grad_A, Matrix<double> grad_B,
                 const BoundParameters<double>& bound, bool allow_exact = true)
      : A_(std::move(A)), B_(std::move(B)), gA_(std::move(grad_A)), gB_(std::move(grad_B)), bound_(bound),
        allow_exact_(allow_exact) {
    scalora::detail::check_factors(A_, B_, gA_, gB_);
    scalora::detail::check_bound_parameters(bound_);
    cert_ = certified::certified_system(A_, B_, gA_, gB_);
    kappa_ = bound.kappa_as<Ball>();
  }

  Index r() const { return A_.cols(); }
  Index m() const { return A_.rows(); }
  Index n() const { return B_.rows(); }
  const Matrix<double>& A() const { return A_; }
  const Matrix<double>& B() const { return B_; }
  const Matrix<double>& grad_A() const { return gA_; }
  const Matrix<double>& grad_B() const { return gB_; }
  const BoundParameters<double>& bound() const { return bound_; }
  bool allow_exact() const { return allow_exact_; }
  const certified::CertifiedSystem& certified_system() const { return cert_; }
  const Ball& kappa() const { return kappa_; }
  /// Whether the exact path ran (for the report: which path decided what).
  bool exact_used() const { return exact_ != nullptr; }

  /// The exact system and kappa (FLINT Gram products), computed once.
  const ExactSystem& exact_system() {
    if (!exact_) exact_ = std::make_unique<ExactSystem>(exact_scaling_system(A_, B_, gA_, gB_));
    return *exact_;
  }
  exact_rational exact_kappa() const {
    return bound_.kappa_as<exact_rational>();  // exact: mpq from a double is exact
  }

  /// delta(u) enclosed (u: exact doubles; +-inf or NaN entries give an unbounded ball).
  Ball decrease(const Vector<double>& u) const {
    const Index n2 = 2 * r();
    std::vector<Ball> w(static_cast<std::size_t>(n2));
    for (Index i = 0; i < n2; ++i) w[std::size_t(i)] = Ball(u(i)).times_pow2(cert_.f[std::size_t(i)]);
    return scaled_decrease(w);
  }
  /// delta(u) exactly.
  exact_rational exact_decrease_of(const Vector<double>& u) {
    RationalVector q(static_cast<std::size_t>(u.size()));
    for (Index i = 0; i < u.size(); ++i) q[std::size_t(i)] = to_rational(u(i));
    return exact_decrease(exact_system(), q, exact_kappa());
  }

  /// Theorem 5: the exact decision and the unconstrained optimum.
  const ColumnFacts& column() {
    if (!column_) column_ = compute_column();
    return *column_;
  }
  /// Theorem 3.
  const ScalarFacts& scalar() {
    if (!scalar_) scalar_ = compute_scalar();
    return *scalar_;
  }
  /// The best column scaling with u >= 0 (the "bound" rule): max delta over u >= 0.
  const BoundOptimum& nonnegative_optimum() {
    if (!nnls_) nnls_ = compute_nonnegative();
    return *nnls_;
  }
  /// delta of no rescaling (u = 1).
  Ball vanilla_decrease() const { return decrease(Vector<double>::Ones(2 * r())); }

 private:
  /// delta with w = E u given as balls: lh^T w - (kappa / 2) w^T Mh w.
  Ball scaled_decrease(const std::vector<Ball>& w) const {
    const Index n2 = 2 * r();
    Ball lin(0.0), quad(0.0);
    for (Index i = 0; i < n2; ++i) {
      lin += Ball(cert_.lh.mid(i), cert_.lh.rad(i)) * w[std::size_t(i)];  // inactive: M's row is 0
      if (!cert_.active[std::size_t(i)]) continue;
      Ball row(0.0);
      for (Index j = 0; j < n2; ++j)
        if (cert_.active[std::size_t(j)]) row += Ball(cert_.Mh.mid(i, j), cert_.Mh.rad(i, j)) * w[std::size_t(j)];
      quad += w[std::size_t(i)] * row;
    }
    return lin - kappa_ * quad.times_pow2(-1);
  }

  /// sum of lambda_i over inactive coordinates (their u_i = 1).
  Ball inactive_linear() const {
    Ball out(0.0);
    for (Index i = 0; i < 2 * r(); ++i)
      if (!cert_.active[std::size_t(i)])
        out += Ball(cert_.lh.mid(i), cert_.lh.rad(i)).times_pow2(cert_.f[std::size_t(i)]);
    return out;
  }

  std::vector<Index> active_indices() const {
    std::vector<Index> idx;
    for (Index i = 0; i < 2 * r(); ++i)
      if (cert_.active[std::size_t(i)]) idx.push_back(i);
    return idx;
  }

  /// u_i = 2^-f_i y_i / kappa in double (inactive coordinates: 1, D5).
  Vector<double> u_from_scaled(const Vector<double>& y) const {
    const Index n2 = 2 * r();
    const double kappa = kappa_.mid();
    Vector<double> u(n2);
    for (Index i = 0; i < n2; ++i)
      u(i) = cert_.active[std::size_t(i)] ? std::ldexp(y(i), int(-cert_.f[std::size_t(i)])) / kappa : 1.0;
    return u;
  }

  static double margin_of(const Vector<double>& v_times_weight, const std::vector<Index>& idx) {
    double big = 0, small = 0;
    bool first = true;
    for (Index i : idx) {
      big = std::max(big, std::abs(v_times_weight(i)));
      if (first || v_times_weight(i) < small) small = v_times_weight(i);
      first = false;
    }
    return big > 0 ? small / big : 0.0;
  }

  ColumnFacts compute_column() {
    ColumnFacts f;
    const std::vector<Index> idx = active_indices();
    f.active = Index(idx.size());
    const Index n2 = 2 * r();
    if (cert_.ok) {
      const auto y = certified::verified_solve(certified::restrict(cert_.Mh, idx), certified::restrict(cert_.lh, idx));
      if (y) {
        // M restricted to its active part is nonsingular: rank = active count.
        f.rank = f.active;
        certified::EnclosedVector full{Vector<double>::Zero(n2), Vector<double>::Zero(n2)};
        for (std::size_t k = 0; k < idx.size(); ++k) {
          full.mid(idx[k]) = y->mid(Index(k));
          full.rad(idx[k]) = y->rad(Index(k));
        }
        f.y = full;
        // Equilibrated entries v_i sqrt(M_ii) = y_i sqrt(Mh_ii) for the margin.
        Vector<double> wv(n2);
        for (Index i = 0; i < n2; ++i) wv(i) = full.mid(i) * std::sqrt(std::max(0.0, cert_.Mh.mid(i, i)));
        f.margin = margin_of(wv, idx);
        bool all_pos = true, some_neg = false;
        for (Index i : idx) {
          all_pos = all_pos && full.lower(i) > 0;
          some_neg = some_neg || full.upper(i) < 0;
        }
        // value = lh^T y / (2 kappa) (= lambda^T v / (2 kappa)), plus lambda_i u_i with
        // u_i = 1 for inactive coordinates (D5; lambda_i = 0 there for gradients of one G).
        Ball lin(0.0);
        for (Index i : idx) lin += Ball(cert_.lh.mid(i), cert_.lh.rad(i)) * Ball(full.mid(i), full.rad(i));
        f.optimum.value = lin / (kappa_ * Ball(2.0)) + inactive_linear();
        f.optimum.u = u_from_scaled(full.mid);
        f.optimum.by = decided_by::certified;
        if (all_pos || some_neg) {
          f.feasible = all_pos;
          f.by = decided_by::certified;
          return f;
        }
        // A coordinate of v straddles 0: the exact path decides.
        if (!allow_exact_) {
          f.by = decided_by::undecided;
          return f;
        }
        return exact_column(std::move(f));
      }
    }
    if (!allow_exact_) {  // singular (or out of range): nothing certified
      f.by = decided_by::undecided;
      f.optimum.by = decided_by::undecided;
      f.optimum.value = Ball(0.0, std::numeric_limits<double>::infinity());
      f.optimum.u = Vector<double>::Ones(n2);
      return f;
    }
    return exact_column(std::move(f));
  }

  ColumnFacts exact_column(ColumnFacts f) {
    const ExactSystem& ex = exact_system();
    const exact_rational kappa = exact_kappa();
    const ExactColumnDecision d = exact_column_decision(ex, kappa);
    f.by = decided_by::exact;
    f.feasible = d.feasible;
    f.rank = d.rank;
    f.consistent = d.consistent;
    const Index n2 = 2 * r();
    f.inconsistency = Vector<double>::Zero(n2);
    if (!d.consistent)
      for (Index i = 0; i < n2; ++i) {
        exact_rational res = ex.lambda[std::size_t(i)];
        for (Index j = 0; j < n2; ++j) res -= ex.M(i, j) * d.v[std::size_t(j)];
        const double a = std::abs(round_to<double>(res));
        f.inconsistency(i) = a * (1 + 0x1p-50);  // rounded up
      }
    const exact_rational value = exact_column_optimum(ex, d, kappa);
    f.optimum.exact_value = value;
    f.optimum.value = Ball(value);
    f.optimum.by = decided_by::exact;
    f.optimum.u.resize(n2);
    Vector<double> wv(n2);
    std::vector<Index> idx;
    for (Index i = 0; i < n2; ++i) {
      f.optimum.u(i) = round_to<double>(d.v[std::size_t(i)] / kappa);
      if (ex.M(i, i) != 0) {
        idx.push_back(i);
        wv(i) = round_to<double>(d.v[std::size_t(i)]) * std::sqrt(round_to<double>(ex.M(i, i)));
      } else {
        wv(i) = 0;
      }
    }
    f.margin = margin_of(wv, idx);
    return f;
  }

  ScalarFacts compute_scalar() {
    ScalarFacts s;
    const Index r0 = r();
    // Aggregates as balls: p = sum M_AA, q = sum M_AB, s = sum M_BB, x = sum lambda_A, y = sum lambda_B.
    auto entry = [&](Index i, Index j) {
      return Ball(cert_.Mh.mid(i, j), cert_.Mh.rad(i, j)).times_pow2(cert_.f[std::size_t(i)] + cert_.f[std::size_t(j)]);
    };
    Ball p(0.0), q(0.0), ss(0.0), x(0.0), y(0.0);
    bool cert_ok = cert_.ok;
    if (cert_ok) {
      for (Index i = 0; i < r0; ++i) {
        x += Ball(cert_.lh.mid(i), cert_.lh.rad(i)).times_pow2(cert_.f[std::size_t(i)]);
        y += Ball(cert_.lh.mid(r0 + i), cert_.lh.rad(r0 + i)).times_pow2(cert_.f[std::size_t(r0 + i)]);
        for (Index j = 0; j < r0; ++j) {
          p += entry(i, j);
          q += entry(i, r0 + j);
          ss += entry(r0 + i, r0 + j);
        }
      }
    }
    const Ball C = p * ss - q * q, CA = ss * x - q * y, CB = p * y - q * x;
    const Ball c = Ball(1.0) / kappa_;
    // The case needs the signs of x, y (exact zeros are exact: zero columns), p, s, C, C_A, C_B.
    auto exact_zero = [](const Ball& b) { return b.lower() == 0 && b.upper() == 0; };
    Ball a_ball, b_ball;
    bool decided = cert_ok;
    if (decided) {
      if (exact_zero(x) && exact_zero(y)) {
        s.kind = scalar_case::zero_gradient;
        a_ball = Ball(1.0);
        b_ball = Ball(1.0);
      } else if (exact_zero(p)) {
        s.kind = scalar_case::collinear;
        a_ball = Ball(1.0);
        b_ball = exact_zero(ss) ? Ball(1.0) : c * y / ss;
      } else if (exact_zero(ss)) {
        s.kind = scalar_case::collinear;
        a_ball = c * x / p;
        b_ball = Ball(1.0);
      } else if (C.certainly_positive() && (CA.certainly_positive() || CA.certainly_negative() || exact_zero(CA)) &&
                 (CB.certainly_positive() || CB.certainly_negative() || exact_zero(CB))) {
        const bool ca_pos = CA.certainly_positive(), cb_pos = CB.certainly_positive();
        if (ca_pos && !cb_pos) {
          s.kind = scalar_case::beta_zero;
          a_ball = c * x / p;
          b_ball = Ball(0.0);
        } else if (!ca_pos && cb_pos) {
          s.kind = scalar_case::alpha_zero;
          a_ball = Ball(0.0);
          b_ball = c * y / ss;
        } else {
          s.kind = scalar_case::interior;
          a_ball = c * CA / C;
          b_ball = c * CB / C;
        }
      } else {
        decided = false;  // C, C_A or C_B too close to 0 (or C = 0: collinear)
      }
    }
    if (decided) {
      s.by = decided_by::certified;
      s.a = a_ball.mid();
      s.b = b_ball.mid();
      // delta(a, b) = a x + b y - (kappa / 2)(p a^2 + 2 q a b + s b^2).
      s.optimum.value = a_ball * x + b_ball * y -
                        kappa_ * (p * a_ball * a_ball + Ball(2.0) * q * a_ball * b_ball + ss * b_ball * b_ball)
                                     .times_pow2(-1);
      s.optimum.by = decided_by::certified;
    } else if (allow_exact_) {
      const ExactScalarDecision d = exact_scalar_decision(exact_system(), exact_kappa());
      s.kind = d.kind;
      s.by = decided_by::exact;
      s.a = round_to<double>(d.a);
      s.b = round_to<double>(d.b);
      RationalVector u(static_cast<std::size_t>(2 * r0));
      for (Index i = 0; i < r0; ++i) {
        u[std::size_t(i)] = d.a;
        u[std::size_t(r0 + i)] = d.b;
      }
      const exact_rational value = exact_decrease(exact_system(), u, exact_kappa());
      s.optimum.exact_value = value;
      s.optimum.value = Ball(value);
      s.optimum.by = decided_by::exact;
    } else {
      s.by = decided_by::undecided;
      s.optimum.by = decided_by::undecided;
      s.optimum.value = Ball(0.0, std::numeric_limits<double>::infinity());
    }
    s.optimum.u.resize(2 * r0);
    s.optimum.u.head(r0).setConstant(s.a);
    s.optimum.u.tail(r0).setConstant(s.b);
    return s;
  }

  /// max delta over u >= 0: an active set proposed by NNLS in double on the
  /// equilibrated system, then certified by the KKT conditions (u_F > 0 solves
  /// M_FF u_F = lambda_F / kappa, gradient lambda_Z - kappa M_ZF u_F < 0); when the
  /// enclosures cannot certify them, the same conditions exactly; when the
  /// proposed set is wrong, exact Lemke pivoting (exact_nonnegative_optimum).
  BoundOptimum compute_nonnegative();

  Matrix<double> A_, B_, gA_, gB_;
  BoundParameters<double> bound_;
  bool allow_exact_ = true;
  certified::CertifiedSystem cert_;
  Ball kappa_;
  std::unique_ptr<ExactSystem> exact_;
  std::optional<ColumnFacts> column_;
  std::optional<ScalarFacts> scalar_;
  std::optional<BoundOptimum> nnls_;
};

namespace detail {
/// min 1/2 y^T H y - g^T y over y >= 0 by Lawson and Hanson's active set (in
/// its normal-equations form, Bro and de Jong 1997) in double: the proposal
/// the certified and exact paths then check. H symmetric positive semidefinite.
inline Vector<double> nonnegative_qp(const Matrix<double>& H, const Vector<double>& g) {
  const Index n = H.rows();
  Vector<double> y = Vector<double>::Zero(n);
  std::vector<bool> free(std::size_t(n), false);
  const double tol = 64 * double(n) * 0x1p-52 * std::max(1.0, g.cwiseAbs().maxCoeff());
  auto solve_free = [&](Vector<double>& z) {
    std::vector<Index> F;
    for (Index i = 0; i < n; ++i)
      if (free[std::size_t(i)]) F.push_back(i);
    Matrix<double> Hf(Index(F.size()), Index(F.size()));
    Vector<double> gf(Index(F.size()));
    for (Index a = 0; a < Index(F.size()); ++a) {
      gf(a) = g(F[std::size_t(a)]);
      for (Index b = 0; b < Index(F.size()); ++b) Hf(a, b) = H(F[std::size_t(a)], F[std::size_t(b)]);
    }
    const Vector<double> zf = Hf.completeOrthogonalDecomposition().solve(gf);
    z.setZero(n);
    for (Index a = 0; a < Index(F.size()); ++a) z(F[std::size_t(a)]) = zf(a);
  };
  for (Index outer = 0; outer < 4 * n + 8; ++outer) {
    const Vector<double> w = g - H * y;
    Index best = -1;
    for (Index i = 0; i < n; ++i)
      if (!free[std::size_t(i)] && w(i) > tol && (best < 0 || w(i) > w(best))) best = i;
    if (best < 0) break;
    free[std::size_t(best)] = true;
    for (Index inner = 0; inner < 4 * n + 8; ++inner) {
      Vector<double> z;
      solve_free(z);
      bool ok = true;
      for (Index i = 0; i < n; ++i)
        if (free[std::size_t(i)] && !(z(i) > 0)) ok = false;
      if (ok) {
        y = z;
        break;
      }
      double step = 1;
      for (Index i = 0; i < n; ++i)
        if (free[std::size_t(i)] && !(z(i) > 0) && y(i) - z(i) > 0) step = std::min(step, y(i) / (y(i) - z(i)));
      y += step * (z - y);
      for (Index i = 0; i < n; ++i)
        if (free[std::size_t(i)] && !(y(i) > 0)) {
          free[std::size_t(i)] = false;
          y(i) = 0;
        }
    }
  }
  return y;
}
}  // namespace detail

inline BoundOptimum ScalingProblem::compute_nonnegative() {
  BoundOptimum out;
  const Index n2 = 2 * r();
  const std::vector<Index> idx = active_indices();
  const Index k = Index(idx.size());
  auto exact_path = [&]() {
    out.by = decided_by::exact;
    const std::optional<ExactNonnegativeOptimum> ex = exact_nonnegative_optimum(exact_system(), exact_kappa());
    if (!ex) {  // unbounded (lambda outside range(M) along an admissible direction)
      out.value = Ball(std::numeric_limits<double>::infinity());
      out.u = Vector<double>::Constant(n2, std::numeric_limits<double>::infinity());
      return out;
    }
    out.exact_value = ex->value;
    out.value = Ball(ex->value);
    out.u.resize(n2);
    for (Index i = 0; i < n2; ++i) out.u(i) = round_to<double>(ex->u[std::size_t(i)]);
    return out;
  };
  if (cert_.ok) {
    const certified::EnclosedMatrix Ma = certified::restrict(cert_.Mh, idx);
    const certified::EnclosedVector la = certified::restrict(cert_.lh, idx);
    const Vector<double> y = detail::nonnegative_qp(Ma.mid, la.mid);
    std::vector<Index> F, Z;  // positions within the active part
    for (Index i = 0; i < k; ++i) (y(i) > 0 ? F : Z).push_back(i);
    const auto yF = certified::verified_solve(certified::restrict(Ma, F), certified::restrict(la, F));
    bool certified_kkt = bool(yF);
    if (yF)
      for (Index a = 0; a < Index(F.size()); ++a) certified_kkt = certified_kkt && yF->lower(a) > 0;
    Ball value(0.0);
    if (certified_kkt) {
      // Gradient on Z: lh_Z - Mh_ZF y_F < 0 for every y_F in its enclosure.
      for (Index z : Z) {
        Ball grad = Ball(la.mid(z), la.rad(z));
        for (Index a = 0; a < Index(F.size()); ++a)
          grad -= Ball(Ma.mid(z, F[std::size_t(a)]), Ma.rad(z, F[std::size_t(a)])) * Ball(yF->mid(a), yF->rad(a));
        certified_kkt = certified_kkt && grad.certainly_negative();
      }
      for (Index a = 0; a < Index(F.size()); ++a)
        value += Ball(la.mid(F[std::size_t(a)]), la.rad(F[std::size_t(a)])) * Ball(yF->mid(a), yF->rad(a));
    }
    if (certified_kkt) {
      out.by = decided_by::certified;
      out.value = value / (kappa_ * Ball(2.0)) + inactive_linear();
      Vector<double> full = Vector<double>::Zero(n2);
      for (Index a = 0; a < Index(F.size()); ++a) full(idx[std::size_t(F[std::size_t(a)])]) = yF->mid(a);
      out.u = u_from_scaled(full);
      return out;
    }
  }
  if (!allow_exact_) {
    out.by = decided_by::undecided;
    out.value = Ball(0.0, std::numeric_limits<double>::infinity());
    out.u = Vector<double>::Ones(n2);
    return out;
  }
  return exact_path();
}

}  // namespace scalora::reference
