// SPDX-License-Identifier: Apache-2.0
// Theorem 3 (spec section 4): with a = alpha^2, b = beta^2, the closed form of
// the table (B off: C_A > 0, C_B <= 0; A off: C_A <= 0, C_B > 0; interior:
// C_A >= 0, C_B >= 0, C > 0) is the global minimum of (*) over (a, b) >= 0.
// Checked on layers (with an explicit G) for every row: the KKT conditions, a
// dense grid, and the four candidate points of the 2 x 2 quadratic; at the case
// boundaries (continuity) and at C = 0 (the segment of optima and the
// least-change point of decision D6).
// Code: include/scalora/core/scalar_scaling.hpp.
#include "check.hpp"

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
               {
                 // Every point of the segment a + 4 b = c x / p is optimal; the chosen one is nearest to (1, 1).
                 const Problem p{"", ints(2, 1, {1, 0}), ints(2, 1, {2, 0}), ints(2, 2, {1, 0, 0, 0}), mp50(1)};
                 const mp50 f1 = f_ab(p, mp50(1), mp50(0)), f2 = f_ab(p, mp50(0), mp50(1) / 4),
                            f3 = f_ab(p, mp50(13) / 17, mp50(1) / 17);
                 rep.section("C = 0: the segment of optima");
                 rep.check("(*) is constant along a + 4 b = 1", 1e-45 - double(std::max(abs(f1 - f2), abs(f1 - f3))));
                 // Nearest point of the line to (1, 1): (1,1) - point is parallel to the normal (1, 4).
                 const mp50 da = 1 - mp50(13) / 17, db = 1 - mp50(1) / 17;
                 rep.check("the chosen point (13/17, 1/17) is the nearest to (1, 1)", 1e-45 - double(abs(4 * da - db)));
               }
               rep.section("case boundaries of the 2 x 2 quadratic (p = 2, q = 1, s = 1, x = 1)");
               // C_B = p y - q x = 0 at y = 1/2: interior | B off. C_A = s x - q y = 0 at y = 1: interior | A off.
               check_boundary(rep, "C_B = 0 (interior | B off)", 2, 1, 1, 1, mp50(1) / 2);
               check_boundary(rep, "C_A = 0 (interior | A off)", 2, 1, 1, 1, mp50(1));
             });
}
