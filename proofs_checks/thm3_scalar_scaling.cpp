// SPDX-License-Identifier: Apache-2.0
// Theorem 3 (spec section 4): with a = alpha^2, b = beta^2, the closed form of
// the table (B off: C_A > 0, C_B <= 0; A off: C_A <= 0, C_B > 0; interior:
// C_A >= 0, C_B >= 0, C > 0) is the global minimum of (*) over (a, b) >= 0.
// Checked on layers (with an explicit G) for every row: the KKT conditions, a
// dense grid, and the four candidate points of the 2 x 2 quadratic; at the case
// boundaries (continuity, and the row the table assigns to C_A = 0 and C_B = 0)
// and at C = 0: the library's point is on the segment of optima, no sampled
// point of the segment is nearer to (1, 1) (least change, decision D6), and it
// equals the exact reference's, with both clipped cases.
// Code: include/scalora/core/scalar_scaling.hpp; reference/exact.hpp.
#include "check.hpp"
#include "scalora/reference/exact.hpp"

using namespace scalora;
using namespace scalora::proofs;

namespace {

struct Problem {
  std::string name;
  Mat A, B, G;
  mp50 kappa;
};

Mat ints(Index rows, Index cols, std::initializer_list<long> v) {
  Mat m(rows, cols);
  auto it = v.begin();
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = mp50(*it++);
  return m;
}

/// (*)(a, b) with the explicit G, L = 1 (only kappa = eta matters).
mp50 f_ab(const Problem& p, const mp50& a, const mp50& b) {
  return objective(p.G, Mat(sqrt(a) * p.A), Mat(sqrt(b) * p.B), mp50(1), p.kappa);
}

void check_problem(Report& rep, const Problem& p, scalar_case expected) {
  rep.section(p.name);
  const ScalingSystem<mp50> sys = scaling_system(p.A, p.B, Mat(p.G * p.B), Mat(p.G.transpose() * p.A));
  const Scaling<mp50> s = scalar_scaling(sys, p.kappa, ScalingTolerances<mp50>::defaults(p.A.cols()));
  const mp50 a = s.u(0), b = s.u(p.A.cols()), c = 1 / p.kappa;
  rep.check(std::string("case is ") + to_string(expected), s.scalar_kind == expected ? 0.0 : -1.0,
            std::string("got ") + to_string(s.scalar_kind));
  const mp50 fstar = f_ab(p, a, b);
  const mp50 scale = p.G.squaredNorm() / 2 + mp50(1e-300);  // (*)(0, 0) with L = 1
  // KKT of F(a, b) = p a^2 + 2 q a b + s b^2 - 2 c (x a + y b) on the quadrant.
  const mp50 ga = 2 * (sys.p * a + sys.q * b - c * sys.x), gb = 2 * (sys.q * a + sys.s * b - c * sys.y);
  const mp50 gscale = 2 * (sys.p + sys.s) * (a + b + 1) + 2 * c * (sys.x + sys.y) + mp50(1e-300);
  const double kkt_tol = 1e-40;
  rep.check("a, b >= 0", double(std::min(a, b)));
  rep.check("dF/da >= 0", double(ga / gscale) + kkt_tol, "dF/da " + Report::num(double(ga)));
  rep.check("dF/db >= 0", double(gb / gscale) + kkt_tol, "dF/db " + Report::num(double(gb)));
  rep.check("a dF/da = 0 (complementarity)", kkt_tol - double(abs(a * ga) / gscale));
  rep.check("b dF/db = 0 (complementarity)", kkt_tol - double(abs(b * gb) / gscale));
  // The four candidates of the 2 x 2 problem (unconstrained, each face, origin).
  const mp50 C = sys.p * sys.s - sys.q * sys.q;
  std::vector<std::pair<mp50, mp50>> cand = {{0, 0}};
  if (sys.p > 0) cand.push_back({c * sys.x / sys.p, 0});
  if (sys.s > 0) cand.push_back({0, c * sys.y / sys.s});
  if (C > 0) {
    const mp50 ai = c * (sys.s * sys.x - sys.q * sys.y) / C, bi = c * (sys.p * sys.y - sys.q * sys.x) / C;
    if (ai >= 0 && bi >= 0) cand.push_back({ai, bi});
  }
  mp50 best = f_ab(p, 0, 0);
  for (const auto& ab : cand) best = std::min(best, f_ab(p, ab.first, ab.second));
  rep.check("equals the best candidate of the 2 x 2 problem", 1e-40 - rel(abs(fstar - best), scale));
  // Dense grid on [0, 2a + 2] x [0, 2b + 2].
  mp50 grid_min = fstar;
  const int steps = 40;
  for (int i = 0; i <= steps; ++i)
    for (int j = 0; j <= steps; ++j)
      grid_min = std::min(grid_min, f_ab(p, (2 * a + 2) * i / steps, (2 * b + 2) * j / steps));
  rep.check("no point of a 41 x 41 grid is lower", rel(grid_min - fstar, scale) + 1e-40,
            "grid min - (*)* = " + Report::num(double(grid_min - fstar)));
}

/// C = 0 (Y = t X): every point of the segment {a + t b = w, a, b >= 0} is
/// optimal; the library must return its point nearest to (1, 1) (D6).
void check_least_change(Report& rep, const Problem& p, const mp50& t, const mp50& w) {
  rep.section(p.name);
  const ScalingSystem<mp50> sys = scaling_system(p.A, p.B, Mat(p.G * p.B), Mat(p.G.transpose() * p.A));
  const Scaling<mp50> s = scalar_scaling(sys, p.kappa, ScalingTolerances<mp50>::defaults(p.A.cols()));
  const mp50 a = s.u(0), b = s.u(p.A.cols());
  rep.check("case is collinear", s.scalar_kind == scalar_case::collinear ? 0.0 : -1.0,
            std::string("got ") + to_string(s.scalar_kind));
  rep.check("a, b >= 0", double(std::min(a, b)));
  const mp50 scale = p.G.squaredNorm() / 2;
  const double off = rel(abs(f_ab(p, a, b) - f_ab(p, w, 0)), scale);
  rep.check("(a, b) is optimal: (*)(a, b) = (*)(w, 0), an end of the segment", 1e-40 - off,
            "(a, b) = (" + Report::num(double(a)) + ", " + Report::num(double(b)) + "), difference " + Report::num(off));
  rep.check("(a, b) lies on the segment a + t b = w", 1e-40 - reldiff(a + t * b, w));
  // Least change: no point of the segment is nearer to (1, 1).
  const mp50 d0 = (1 - a) * (1 - a) + (1 - b) * (1 - b);
  mp50 closest = d0;
  for (int k = 0; k <= 2000; ++k) {
    const mp50 sa = w * k / 2000, sb = (w - sa) / t;  // from (0, w/t) to (w, 0)
    closest = std::min(closest, mp50((1 - sa) * (1 - sa) + (1 - sb) * (1 - sb)));
  }
  rep.check("no sampled point of the segment (2001) is nearer to (1, 1)", double(closest - d0) + 1e-40,
            "distance^2 " + Report::num(double(d0)) + ", nearest sample " + Report::num(double(closest)));
  const reference::ExactScalarDecision ex = reference::exact_scalar_decision(
      reference::exact_scaling_system(p.A, p.B, Mat(p.G * p.B), Mat(p.G.transpose() * p.A)),
      reference::to_rational(p.kappa));
  const mp50 ea = reference::round_to<mp50>(ex.a), eb = reference::round_to<mp50>(ex.b);
  const double e = std::max(reldiff(a, ea, mp50(1)), reldiff(b, eb, mp50(1)));
  rep.check("equals the exact reference's point", 1e-45 - e,
            "exact (" + Report::num(double(ea)) + ", " + Report::num(double(eb)) + "), difference " + Report::num(e));
}

/// The row the table assigns on a case boundary (C_A = 0: 'A off', whose
/// condition is C_A <= 0; C_B = 0: 'B off', C_B <= 0), with aggregates whose
/// normalised form is exact (p and s perfect squares, cos = 1/2).
void check_boundary_row(Report& rep, const char* name, mp50 p, mp50 q, mp50 s, mp50 x, mp50 y, scalar_case expected) {
  const ScalarSquares<mp50> at = solve_scalar_system(p, q, s, x, y, mp50(1), mp50(0));
  rep.check(std::string(name) + ": the table's row " + to_string(expected), at.kind == expected ? 0.0 : -1.0,
            std::string("got ") + to_string(at.kind));
}

/// The 2 x 2 quadratic alone near a case boundary: solutions on both sides
/// converge to the boundary solution (the rows agree there).
void check_boundary(Report& rep, const char* name, mp50 p, mp50 q, mp50 s, mp50 x, mp50 y_boundary) {
  const mp50 kappa = mp50(1) / 3, tol = mp50(16) * std::numeric_limits<mp50>::epsilon();
  const ScalarSquares<mp50> at = solve_scalar_system(p, q, s, x, y_boundary, kappa, tol);
  const mp50 h = mp50(1e-30);
  const ScalarSquares<mp50> lo = solve_scalar_system(p, q, s, x, y_boundary - h, kappa, tol);
  const ScalarSquares<mp50> hi = solve_scalar_system(p, q, s, x, y_boundary + h, kappa, tol);
  const double jump = double(std::max({abs(lo.a - at.a), abs(hi.a - at.a), abs(lo.b - at.b), abs(hi.b - at.b)}));
  rep.check(std::string(name) + ": rows agree on the boundary (jump <= 1e-28 for a 1e-30 step)", 1e-28 - jump,
            std::string("sides: ") + to_string(lo.kind) + " / " + to_string(hi.kind) + ", jump " + Report::num(jump));
}

}  // namespace

int main() {
  return run("Theorem 3: the scalar scaling of the table is the global minimum over (alpha^2, beta^2) >= 0",
             [](Report& rep) {
               check_problem(rep, {"B off (C_A > 0, C_B <= 0)", ints(2, 2, {0, 1, -1, 1}), ints(2, 2, {0, -1, 0, 1}),
                                   ints(2, 2, {1, 1, 0, -1}), mp50(1)},
                             scalar_case::beta_zero);
               check_problem(rep, {"A off (C_A <= 0, C_B > 0)", ints(2, 2, {0, 0, 1, 0}), ints(2, 2, {-1, 0, -1, -1}),
                                   ints(2, 2, {-2, 1, 0, 1}), mp50(1)},
                             scalar_case::alpha_zero);
               Mat G5 = Mat::Zero(5, 5);
               for (int i = 0; i < 5; ++i) G5(i, i) = 5 - i;
               check_problem(rep, {"interior (the worked example)", ints(5, 2, {0, 0, 0, 0, 0, 0, 1, -1, 1, 0}),
                                   ints(5, 2, {1, 0, 1, -1, -1, -1, 0, 0, 0, 0}), G5, mp50(1) / 6},
                             scalar_case::interior);
               for (std::uint64_t seed : {11u, 12u, 13u}) {
                 check_problem(rep, {"interior, random 9 x 7, r = 3, seed " + std::to_string(seed),
                                     random_mat(9, 3, seed), random_mat(7, 3, seed + 1, 0.1), random_mat(9, 7, seed + 2),
                                     mp50(0.05)},
                               scalar_case::interior);
               }
               // C = 0: X = Y (t = 1) and Y = 4 X (t = 4, least change clipped at b = 0).
               check_problem(rep, {"C = 0, X = Y", ints(2, 1, {1, 0}), ints(2, 1, {1, 0}), ints(2, 2, {1, 0, 0, 0}), mp50(1)},
                             scalar_case::collinear);
               check_problem(rep, {"C = 0, Y = 4 X, kappa = 4", ints(2, 1, {1, 0}), ints(2, 1, {2, 0}),
                                   ints(2, 2, {1, 0, 0, 0}), mp50(4)},
                             scalar_case::collinear);
               // X = diag(1, 0), Y = t X with t = B_0^2, w = c x / p = 1 / kappa.
               check_least_change(rep, {"C = 0, least change: Y = 4 X, kappa = 1 (the point (13/17, 1/17))",
                                        ints(2, 1, {1, 0}), ints(2, 1, {2, 0}), ints(2, 2, {1, 0, 0, 0}), mp50(1)},
                                  mp50(4), mp50(1));
               check_least_change(rep, {"C = 0, least change clipped at b = 0: Y = 4 X, kappa = 4",
                                        ints(2, 1, {1, 0}), ints(2, 1, {2, 0}), ints(2, 2, {1, 0, 0, 0}), mp50(4)},
                                  mp50(4), mp50(1) / 4);
               {
                 Mat B(2, 1);
                 B << mp50(0.5), mp50(0);
                 check_least_change(rep, {"C = 0, least change clipped at a = 0: Y = X / 4, kappa = 8",
                                          ints(2, 1, {1, 0}), B, ints(2, 2, {1, 0, 0, 0}), mp50(8)},
                                    mp50(1) / 4, mp50(1) / 8);
               }
               rep.section("case boundaries of the 2 x 2 quadratic (p = 2, q = 1, s = 1, x = 1)");
               // C_B = p y - q x = 0 at y = 1/2: interior | B off. C_A = s x - q y = 0 at y = 1: interior | A off.
               check_boundary(rep, "C_B = 0 (interior | B off)", 2, 1, 1, 1, mp50(1) / 2);
               check_boundary(rep, "C_A = 0 (interior | A off)", 2, 1, 1, 1, mp50(1));
               rep.section("rows on the case boundaries, exactly (cos(X, Y) = 1/2)");
               // p = 4, q = 1, s = 1, x = 2, y = 1/2: C_B = p y - q x = 0, C_A = 3/2 > 0.
               check_boundary_row(rep, "C_B = 0, C_A > 0", 4, 1, 1, 2, mp50(1) / 2, scalar_case::beta_zero);
               // p = 1, q = 1, s = 4, x = 1/2, y = 2: C_A = s x - q y = 0, C_B = 3/2 > 0.
               check_boundary_row(rep, "C_A = 0, C_B > 0", 1, 1, 4, mp50(1) / 2, 2, scalar_case::alpha_zero);
             });
}
