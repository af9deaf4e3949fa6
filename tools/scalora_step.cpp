// SPDX-License-Identifier: Apache-2.0
// scalora-step: one ScaLoRA step on a built-in example layer or on the inputs
// of a case file, with every intermediate of the method (docs/theory.md,
// docs/exercises.md) and the reference's exact decisions.
//
//   scalora-step [--example least-squares|worked] [--seed N] [--m M] [--n N] [--r R]
//                [--lr-factor F] [--explain] [--json]
//   scalora-step --case FILE [--explain] [--json]
//
// Exit status: 0 every reference check passed (a case without outputs: explained),
// 1 a check failed, 2 bad arguments or an unreadable case, 3 I/O (the standard
// output included) or out of memory, 4 inconclusive (docs/validating.md, "Exit status").
#include <Eigen/Eigenvalues>
#include <cstdio>
#include <cmath>
#include <iostream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>

#include "scalora/io/case_file.hpp"
#include "scalora/reference.hpp"
#include "verify_core.hpp"
#include "exit_status.hpp"

namespace {

using namespace scalora;
using scalora::reference::mp50;

struct Options {
  std::string example = "least-squares";
  std::uint64_t seed = 1;
  Index m = 64, n = 48, r = 4;
  double lr_factor = 0.5;  // lr = lr_factor / L
  std::string case_file;  // --case: the inputs (and outputs, when present) of a case file
  bool explain = false, json = false;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: scalora-step [--example least-squares|worked] [--seed N] [--m M] [--n N] [--r R]\n"
    "                    [--lr-factor F] [--explain] [--json]\n"
    "       scalora-step --case FILE [--explain] [--json]\n"
    "  least-squares: l(W) = ||X W^T - Y||^2 / (2N) on generated data, L = ||X^T X||_2 / N,\n"
    "                 lr = F / L (default F = 0.5), W m x n (default 64 x 48), rank r (default 4)\n"
    "  worked:        the worked example of docs/theory.md (5 x 5, r = 2, L = 1, lr = 1/6)\n"
    "  --case FILE    the inputs of a case file (docs/validating.md; outputs optional: when\n"
    "                 present, they are judged as scalora-verify judges them)\n"
    "  --explain      print every intermediate: M, lambda, v, p, q, s, x, y, C, C_A, C_B, the\n"
    "                 row of Theorem 3's table or Theorem 5's system, the decision margin,\n"
    "                 alpha, beta, predicted (and, for the examples, actual) one-step losses\n"
    "  --json         the same as one JSON document\n";

Options parse(int argc, char** argv) {
  Options o;
  auto value = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw UsageError(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  auto positive_int = [&](int& i) -> Index {
    const std::string name = argv[i];
    const std::string v = value(i);
    try {
      std::size_t pos = 0;
      const long x = std::stol(v, &pos);
      if (pos != v.size() || x < 1 || x > 8192) throw std::invalid_argument("range");
      return x;
    } catch (const std::exception&) {
      throw UsageError(name + ": expected an integer in [1, 8192], got '" + v + "'");
    }
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--example") {
      o.example = value(i);
      if (o.example != "least-squares" && o.example != "worked")
        throw UsageError("--example: expected least-squares or worked, got '" + o.example + "'");
    } else if (a == "--seed") {
      o.seed = std::uint64_t(positive_int(i));
    } else if (a == "--m") {
      o.m = positive_int(i);
    } else if (a == "--n") {
      o.n = positive_int(i);
    } else if (a == "--r") {
      o.r = positive_int(i);
    } else if (a == "--lr-factor") {
      const std::string v = value(i);
      try {
        o.lr_factor = std::stod(v);
      } catch (const std::exception&) {
        throw UsageError("--lr-factor: expected a number, got '" + v + "'");
      }
      if (!(o.lr_factor > 0) || !(o.lr_factor <= 2)) throw UsageError("--lr-factor: must be in (0, 2], got " + v);
    } else if (a == "--case") {
      o.case_file = value(i);
    } else if (a == "--explain") {
      o.explain = true;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else {
      throw UsageError("unknown argument '" + a + "'");
    }
  }
  return o;
}

/// A layer whose loss is known exactly, with its gradient G.
struct Example {
  std::string description;
  Layer<double> layer;
  Matrix<double> G;
  BoundParameters<double> bound;
  std::function<double(const Matrix<double>&)> loss;
};

Example least_squares(const Options& o) {
  const Index m = o.m, n = o.n, r = o.r, N = 4 * n, k = std::max<Index>(2 * r, 8);
  Example ex;
  const Matrix<double> X = gaussian_matrix(N, n, o.seed) / std::sqrt(double(n));
  Layer<double>& l = ex.layer;
  l.W_pt = 0.5 * gaussian_matrix(m, n, o.seed + 1) / std::sqrt(double(n));
  // Target: W_pt plus a rank-k change that rank r cannot capture in one step.
  const Matrix<double> W_target =
      l.W_pt + gaussian_matrix(m, k, o.seed + 2) * gaussian_matrix(k, n, o.seed + 3) / std::sqrt(double(k * n));
  const Matrix<double> Y = X * W_target.transpose() + 0.01 * gaussian_matrix(N, m, o.seed + 4);
  l.A = gaussian_matrix(m, r, o.seed + 5) / std::sqrt(double(m));
  l.B = 0.1 * gaussian_matrix(n, r, o.seed + 6) / std::sqrt(double(n));
  ex.loss = [X, Y, N](const Matrix<double>& W) { return (X * W.transpose() - Y).squaredNorm() / (2.0 * double(N)); };
  const Matrix<double> W = l.W_pt + l.A * l.B.transpose();
  ex.G = (X * W.transpose() - Y).transpose() * X / double(N);
  l.grad_A = ex.G * l.B;
  l.grad_B = ex.G.transpose() * l.A;
  // AdamW moments as after a few steps (values only matter for the transfer check).
  l.moments.exp_avg_A = 0.1 * l.grad_A;
  l.moments.exp_avg_sq_A = 0.01 * l.grad_A.cwiseAbs2();
  l.moments.exp_avg_B = 0.1 * l.grad_B;
  l.moments.exp_avg_sq_B = 0.01 * l.grad_B.cwiseAbs2();
  const Eigen::SelfAdjointEigenSolver<Matrix<double>> es(X.transpose() * X / double(N), Eigen::EigenvaluesOnly);
  ex.bound.L = es.eigenvalues().maxCoeff();
  ex.bound.lr = o.lr_factor / ex.bound.L;
  ex.description = "least squares l(W) = ||X W^T - Y||^2/(2N), W " + std::to_string(m) + " x " + std::to_string(n) +
                   ", r = " + std::to_string(r) + ", N = " + std::to_string(N) + ", seed " + std::to_string(o.seed);
  return ex;
}

Example worked() {
  Example ex;
  Layer<double>& l = ex.layer;
  l.W_pt = Matrix<double>::Zero(5, 5);
  l.A.resize(5, 2);
  l.A << 0, 0, 0, 0, 0, 0, 1, -1, 1, 0;
  l.B.resize(5, 2);
  l.B << 1, 0, 1, -1, -1, -1, 0, 0, 0, 0;
  ex.G = Matrix<double>::Zero(5, 5);
  for (int i = 0; i < 5; ++i) ex.G(i, i) = 5 - i;
  l.grad_A = ex.G * l.B;
  l.grad_B = ex.G.transpose() * l.A;
  const Matrix<double> W_star = l.W_pt + l.A * l.B.transpose() - ex.G;  // l(W) = ||W - W*||^2 / 2, G = W - W*
  ex.loss = [W_star](const Matrix<double>& W) { return (W - W_star).squaredNorm() / 2.0; };
  ex.bound.L = 1;
  ex.bound.lr = 1.0 / 6;
  ex.description = "worked example of docs/theory.md: l(W) = ||W - W*||^2/2, G = diag(5,4,3,2,1), r = 2";
  return ex;
}

/// One SGD step with learning rate lr on the factors (A, B) of W = W_pt + A B^T
/// (simultaneous update, L the bound's constant): the loss the first-order
/// bound predicts (the increment without its lr^2 term, docs/theory.md 2), the
/// bound with the exact increment, and the actual loss.
struct OneStep {
  double predicted = 0, bound = 0, actual = 0;
};

OneStep one_step(const Example& ex, const Matrix<double>& W_pt, const Matrix<double>& A, const Matrix<double>& B,
                 double lr, double L) {
  const Matrix<double> W = W_pt + A * B.transpose();
  const double loss0 = ex.loss(W);
  const Matrix<double> first = -lr * (ex.G * B * B.transpose() + A * A.transpose() * ex.G);
  const Matrix<double> A1 = A - lr * ex.G * B, B1 = B - lr * ex.G.transpose() * A;
  const Matrix<double> exact = A1 * B1.transpose() - A * B.transpose();
  OneStep s;
  s.predicted = loss0 + ex.G.cwiseProduct(first).sum() + L / 2 * first.squaredNorm();
  s.bound = loss0 + ex.G.cwiseProduct(exact).sum() + L / 2 * exact.squaredNorm();
  s.actual = ex.loss(W_pt + A1 * B1.transpose());
  return s;
}

/// The re-split (steps 5, 6) with scalings alpha, beta, then one_step().
OneStep after_rescale(const Example& ex, const Layer<double>& in, const Vector<double>& alpha,
                      const Vector<double>& beta) {
  const Index r = in.A.cols();
  Vector<double> keep(r);
  for (Index k = 0; k < r; ++k) keep(k) = 1 - alpha(k) * beta(k);
  const Matrix<double> W_pt = in.W_pt + in.A * keep.asDiagonal() * in.B.transpose();
  return one_step(ex, W_pt, in.A * alpha.asDiagonal(), in.B * beta.asDiagonal(), ex.bound.lr, ex.bound.L);
}

std::string vec(const Vector<double>& v) {
  std::string s;
  char buf[32];
  for (Index i = 0; i < v.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.6g", i ? " " : "", v(i));
    s += buf;
  }
  return s;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

nlohmann::json jnum(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }
nlohmann::json jvec(const Vector<double>& v) {
  nlohmann::json j = nlohmann::json::array();
  for (Index i = 0; i < v.size(); ++i) j.push_back(jnum(v(i)));
  return j;
}
nlohmann::json jmat(const Matrix<double>& x) {
  nlohmann::json j = nlohmann::json::array();
  for (Index i = 0; i < x.rows(); ++i) j.push_back(jvec(x.row(i).transpose()));
  return j;
}

/// The row of Theorem 3's table (docs/theory.md 6) for a case of the exact decision.
const char* theorem3_row(scalar_case k) {
  switch (k) {
    case scalar_case::interior: return "interior";
    case scalar_case::beta_zero: return "B off";
    case scalar_case::alpha_zero: return "A off";
    case scalar_case::collinear: return "C = 0";
    case scalar_case::zero_gradient: return "zero gradient";
  }
  return "?";
}
const char* theorem3_condition(scalar_case k) {
  switch (k) {
    case scalar_case::interior: return "C_A >= 0, C_B >= 0, C > 0: a = c C_A / C, b = c C_B / C";
    case scalar_case::beta_zero: return "C_A > 0, C_B <= 0: a = c x / p, b = 0";
    case scalar_case::alpha_zero: return "C_A <= 0, C_B > 0: a = 0, b = c y / s";
    case scalar_case::collinear:
      return "C = 0, X parallel to Y (or X = 0 or Y = 0): a segment of optima, the point nearest (1, 1) (D6)";
    case scalar_case::zero_gradient: return "x = y = 0: no first-order information, a = b = 1";
  }
  return "?";
}

/// Every intermediate of the method on one layer's inputs (docs/theory.md 5-8),
/// decided by the reference (exact decisions; values rounded to double).
struct Explanation {
  Index m = 0, n = 0, r = 0;
  BoundParameters<double> bound;
  double kappa = 0;
  scaling_mode mode = scaling_mode::hybrid;
  ScalingSystem<double> sys;  ///< M, lambda, P, Q and p, q, s, x, y in double
  // Theorem 5
  Vector<double> v, u_column;  ///< the exact decision's solution (least change when M is singular)
  Vector<double> v_rule;       ///< kappa u of the scaling the rule applies
  bool feasible = false;
  Index rank = 0;
  double margin = 0;
  std::string decided_by, solution;
  std::vector<Index> undetermined;  ///< coordinates with M_ii = 0
  // Theorem 3
  double C = 0, C_A = 0, C_B = 0, a = 1, b = 1;
  scalar_case kind = scalar_case::interior;
  // The rule
  branch rule = branch::scalar;
  Vector<double> alpha, beta, alpha_scalar, beta_scalar;
  double dec_rule = 0, dec_column = NAN, dec_scalar = 0, dec_vanilla = 0, dec_svd = NAN;
};

Explanation explain(const Layer<double>& in, const Matrix<double>& G, const BoundParameters<double>& bound,
                    scaling_mode mode) {
  Explanation e;
  e.m = in.A.rows();
  e.n = in.B.rows();
  e.r = in.A.cols();
  e.bound = bound;
  e.kappa = bound.kappa();
  e.mode = mode;
  e.sys = scaling_system(in.A, in.B, in.grad_A, in.grad_B);
  reference::ScalingProblem P(in.A, in.B, in.grad_A, in.grad_B, bound);
  const reference::ColumnFacts& col = P.column();
  const reference::ScalarFacts& sf = P.scalar();
  const double loss_scale = bound.lr / (bound.lora_scale * bound.lora_scale);
  e.u_column = col.optimum.u;
  e.v = e.kappa * e.u_column;
  e.feasible = col.feasible;
  e.rank = col.rank;
  e.margin = col.margin;
  e.decided_by = reference::to_string(col.by);
  for (Index i = 0; i < 2 * e.r; ++i)
    if (e.sys.M(i, i) == 0) e.undetermined.push_back(i);
  e.solution = e.rank == 2 * e.r ? "unique (M nonsingular)"
                                 : "M singular: the least-change solution, nearest u = 1 (docs/decisions.md D5)";
  const ScalingSystem<double>& y = e.sys;
  e.C = y.p * y.s - y.q * y.q;
  e.C_A = y.s * y.x - y.q * y.y;
  e.C_B = y.p * y.y - y.q * y.x;
  e.kind = sf.kind;
  e.a = sf.optimum.u(0);
  e.b = sf.optimum.u(e.r);
  e.rule = mode == scaling_mode::hybrid && col.feasible ? branch::column : branch::scalar;
  Vector<double> u = e.rule == branch::column ? col.optimum.u : sf.optimum.u;
  if (e.rule == branch::column && col.optimum.u.minCoeff() < 0) {
    // Singular M whose least-change solution has negative entries while another
    // solution is non-negative: the least-distance point (D5), from the library in double.
    const Scaling<double> lib =
        optimal_scaling(e.sys, e.kappa, ScalingTolerances<double>::defaults(e.r, e.m, e.n), scaling_mode::hybrid);
    u = lib.u;
    e.solution += "; it has negative entries, so the rule takes the least-distance solution v >= 0 (D5, in double): "
                  "v = " + vec(e.kappa * u);
  }
  e.v_rule = e.kappa * u;
  e.alpha = u.head(e.r).cwiseMax(0).cwiseSqrt();
  e.beta = u.tail(e.r).cwiseMax(0).cwiseSqrt();
  e.alpha_scalar = sf.optimum.u.head(e.r).cwiseSqrt();
  e.beta_scalar = sf.optimum.u.tail(e.r).cwiseSqrt();
  e.dec_scalar = sf.optimum.value.mid() * loss_scale;
  e.dec_vanilla = P.vanilla_decrease().mid() * loss_scale;
  if (col.feasible) e.dec_column = col.optimum.value.mid() * loss_scale;
  e.dec_rule = e.rule == branch::column ? e.dec_column : e.dec_scalar;
  if (G.size() != 0) e.dec_svd = svd_optimum(G, e.r, bound.L, bound.lr).bound_decrease;
  return e;
}

void print_matrix(const char* indent, const Matrix<double>& x) {
  for (Index i = 0; i < x.rows(); ++i) {
    std::printf("%s", indent);
    for (Index j = 0; j < x.cols(); ++j) std::printf(" %11.6g", x(i, j) + 0.0);  // no -0
    std::printf("\n");
  }
}

void print_explanation(const Explanation& e) {
  const Index r = e.r;
  std::printf("1. the system (docs/theory.md 5)\n");
  std::printf("   S_A = [A, grad_A], S_B = [grad_B, B], M = (S_A^T S_A) o (S_B^T S_B); coordinates alpha_1..alpha_%ld, "
              "beta_1..beta_%ld\n   M =\n",
              long(r), long(r));
  print_matrix("     ", e.sys.M);
  std::printf("   lambda = [colnorm^2(grad_B); colnorm^2(grad_A)] = %s\n", vec(e.sys.lambda).c_str());
  std::printf("   rank M = %ld of %ld\n", long(e.rank), long(2 * r));
  for (Index i : e.undetermined)
    std::printf("   M_%ld%ld = 0: the bound does not depend on %s_%ld (canonical u = 1, D5)\n", long(i + 1), long(i + 1),
                i < r ? "alpha" : "beta", long(i < r ? i + 1 : i - r + 1));
  std::printf("\n2. Theorem 5: M v = lambda\n");
  std::printf("   v = %s   (%s)\n", vec(e.v).c_str(), e.solution.c_str());
  std::printf("   decision margin = min_i v_i sqrt(M_ii) / max_j |v_j| sqrt(M_jj) = %+.6g\n", e.margin);
  std::printf("     (>= 0 exactly when that solution is non-negative; its size says how far the decision is from the\n"
              "      boundary v_i = 0, in units of the largest term; docs/decisions.md D4)\n");
  std::printf("   column condition, some v >= 0 solves M v = lambda: %s (decided %s)\n",
              e.feasible ? "holds" : "fails", (e.decided_by == "undecided" ? std::string("undecided") : "by the " + e.decided_by + " path").c_str());
  std::printf("   u = v / kappa = %s\n", vec(e.u_column).c_str());
  std::printf("\n3. Theorem 3: X = A A^T G, Y = G B B^T (block sums of M and lambda)\n");
  std::printf("   p = ||X||^2 = %s   q = <X, Y> = %s   s = ||Y||^2 = %s\n", num(e.sys.p).c_str(), num(e.sys.q).c_str(),
              num(e.sys.s).c_str());
  std::printf("   x = <X, G> = ||grad_B||^2 = %s   y = <Y, G> = ||grad_A||^2 = %s\n", num(e.sys.x).c_str(),
              num(e.sys.y).c_str());
  std::printf("   C = p s - q^2 = %s   C_A = s x - q y = %s   C_B = p y - q x = %s\n", num(e.C).c_str(),
              num(e.C_A).c_str(), num(e.C_B).c_str());
  std::printf("   row: %s (%s)\n", theorem3_row(e.kind), theorem3_condition(e.kind));
  std::printf("   a = alpha^2 = %s, b = beta^2 = %s\n", num(e.a).c_str(), num(e.b).c_str());
  std::printf("\n4. the rule (%s): %s\n", e.mode == scaling_mode::hybrid ? "hybrid" : "scalar mode, Theorem 3 only",
              e.rule == branch::column ? "column scaling, Theorem 5 (a solution v >= 0 exists)"
              : e.mode == scaling_mode::hybrid ? "scalar scaling, Theorem 3 (no solution v >= 0)"
                                               : "scalar scaling, Theorem 3");
  std::printf("   alpha = %s\n   beta  = %s\n", vec(e.alpha).c_str(), vec(e.beta).c_str());
  std::printf("   AdamW moments (lemmas): exp_avg_A by beta, exp_avg_sq_A by beta^2, exp_avg_B by alpha, "
              "exp_avg_sq_B by alpha^2\n\n");
}

void print_decreases(const Explanation& e) {
  std::printf("predicted decrease of the loss bound, first order (docs/theory.md 2):\n");
  if (std::isfinite(e.dec_svd)) std::printf("    SVD optimum (Theorem 1)  %12.6g\n", e.dec_svd);
  if (std::isfinite(e.dec_column))
    std::printf("    column (Theorem 5)       %12.6g%s\n", e.dec_column, e.rule == branch::column ? "  <- the rule" : "");
  std::printf("    scalar (Theorem 3)       %12.6g%s\n", e.dec_scalar, e.rule == branch::scalar ? "  <- the rule" : "");
  std::printf("    vanilla LoRA             %12.6g\n", e.dec_vanilla);
}

nlohmann::json explanation_json(const Explanation& e) {
  nlohmann::json j;
  j["m"] = e.m;
  j["n"] = e.n;
  j["r"] = e.r;
  j["L"] = e.bound.L;
  j["lr"] = e.bound.lr;
  j["lora_scale"] = e.bound.lora_scale;
  j["kappa"] = e.kappa;
  j["c"] = 1 / e.kappa;
  j["mode"] = e.mode == scaling_mode::hybrid ? "hybrid" : "scalar";
  j["system"] = {{"M", jmat(e.sys.M)},
                 {"lambda", jvec(e.sys.lambda)},
                 {"P", jmat(e.sys.P)},
                 {"Q", jmat(e.sys.Q)},
                 {"rank_M", e.rank},
                 {"undetermined", e.undetermined}};
  j["theorem5"] = {{"v", jvec(e.v)},           {"u", jvec(e.u_column)},    {"feasible", e.feasible},
                   {"margin", jnum(e.margin)}, {"solution", e.solution},   {"decided_by", e.decided_by}};
  j["theorem3"] = {{"p", e.sys.p},   {"q", e.sys.q},     {"s", e.sys.s},     {"x", e.sys.x},
                   {"y", e.sys.y},   {"C", e.C},         {"C_A", e.C_A},     {"C_B", e.C_B},
                   {"row", theorem3_row(e.kind)},        {"a", jnum(e.a)},   {"b", jnum(e.b)},
                   {"alpha", jvec(e.alpha_scalar)},      {"beta", jvec(e.beta_scalar)}};
  const Vector<double> a2 = e.alpha.cwiseAbs2(), b2 = e.beta.cwiseAbs2();
  j["rule"] = {{"branch", to_string(e.rule)},
               {"theorem", e.rule == branch::column ? 5 : 3},
               {"alpha", jvec(e.alpha)},
               {"beta", jvec(e.beta)},
               {"moment_factors",
                {{"exp_avg_A", jvec(e.beta)}, {"exp_avg_sq_A", jvec(b2)}, {"exp_avg_B", jvec(e.alpha)},
                 {"exp_avg_sq_B", jvec(a2)}}}};
  j["rule"]["v"] = jvec(e.v_rule);
  j["bound_decrease"] = {{"rule", jnum(e.dec_rule)},     {"column", jnum(e.dec_column)}, {"scalar", jnum(e.dec_scalar)},
                         {"vanilla", jnum(e.dec_vanilla)}, {"svd", jnum(e.dec_svd)}};
  return j;
}

nlohmann::json checks_json(const reference::Comparison& cmp) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& c : cmp.checks)
    j.push_back({{"id", c.id},
                 {"name", c.name},
                 {"status", reference::to_string(c.status)},
                 {"value", jnum(c.value)},
                 {"tolerance", jnum(c.tolerance)},
                 {"unit", c.unit},
                 {"detail", c.detail}});
  return j;
}

void print_checks(const reference::Comparison& cmp) {
  using reference::check_status;
  const int failed = int(std::count_if(cmp.checks.begin(), cmp.checks.end(),
                                       [](const auto& c) { return c.status == check_status::fail; }));
  const int decided = int(std::count_if(cmp.checks.begin(), cmp.checks.end(), [](const auto& c) { return c.decides(); }));
  for (const auto& c : cmp.checks)
    std::printf("  %-5s %-16s %10.3g %s %-10.3g %s%s%s\n", reference::to_string(c.status), c.id.c_str(), c.value,
                c.decides() ? "<=" : "  ", c.tolerance, c.name.c_str(), c.detail.empty() ? "" : "; ", c.detail.c_str());
  std::printf("\n%d of %d checks passed, %d failed: %s\n", decided - failed, decided, failed,
              reference::to_string(cmp.status()));
}

int exit_code(const reference::Comparison& cmp) {
  return cmp.status() == reference::verdict_status::pass ? 0 : cmp.status() == reference::verdict_status::fail ? 1 : 4;
}

int run_example(const Options& o) {
  const Example ex = o.example == "worked" ? worked() : least_squares(o);
  const Layer<double> input = ex.layer;
  Layer<double> layer = ex.layer;
  StepOptions<double> so;
  so.bound = ex.bound;
  const StepResult<double> res = scalora_step(layer, so);
  const reference::Comparison cmp =
      reference::compare_step(input, layer, res.scaling.alpha, res.scaling.beta, ex.bound);
  const Explanation e = explain(input, ex.G, ex.bound, scaling_mode::hybrid);
  const Index r = input.A.cols();
  const double loss0 = ex.loss(input.W_pt + input.A * input.B.transpose());
  const OneStep st_rule = after_rescale(ex, input, e.alpha, e.beta);
  const OneStep st_scalar = after_rescale(ex, input, e.alpha_scalar, e.beta_scalar);
  const OneStep st_vanilla = one_step(ex, input.W_pt, input.A, input.B, ex.bound.lr, ex.bound.L);
  const int code = exit_code(cmp);

  if (o.json) {
    nlohmann::json j = explanation_json(e);
    j["example"] = ex.description;
    j["library_step"] = {{"branch", to_string(res.scaling.applied)},
                         {"rank_M", res.scaling.column.rank},
                         {"margin", jnum(res.scaling.column.margin)},
                         {"alpha", jvec(res.scaling.alpha)},
                         {"beta", jvec(res.scaling.beta)},
                         {"bound_decrease", jnum(res.bound_decrease)}};
    auto step_json = [](const OneStep& s) {
      return nlohmann::json{{"predicted", s.predicted}, {"bound_exact_increment", s.bound}, {"actual", s.actual}};
    };
    j["loss"] = {{"before", loss0},
                 {"rule", step_json(st_rule)},
                 {"scalar", step_json(st_scalar)},
                 {"vanilla", step_json(st_vanilla)}};
    j["checks"] = checks_json(cmp);
    j["status"] = reference::to_string(cmp.status());
    j["exit_code"] = code;
    std::cout << j.dump(2) << "\n";
    return code;
  }

  std::printf("scalora-step: one ScaLoRA step on a built-in layer, checked against the reference\n\n");
  std::printf("layer     %s\n", ex.description.c_str());
  std::printf("bound     L = %.6g, lr = %.6g, kappa = L lr = %.6g, c = 1/kappa = %.6g\n\n", ex.bound.L, ex.bound.lr,
              ex.bound.kappa(), 1 / ex.bound.kappa());
  if (o.explain) print_explanation(e);
  std::printf("step (the library, double)\n");
  std::printf("  branch  %s (%s), M rank %d of %d, decision margin %+.3g (exact %+.3g)\n",
              to_string(res.scaling.applied),
              res.scaling.applied == branch::column ? to_string(res.scaling.column.method) : to_string(res.scalar_kind),
              res.scaling.column.rank, int(2 * r), res.scaling.column.margin, e.margin);
  std::printf("  alpha   %s\n  beta    %s\n  ", vec(res.scaling.alpha).c_str(), vec(res.scaling.beta).c_str());
  print_decreases(e);
  std::printf("  one SGD step afterwards (lr = %.6g), loss before %.6g:\n", ex.bound.lr, loss0);
  std::printf("                             predicted      bound, exact     actual\n");
  std::printf("                          (first order)      increment\n");
  for (const auto& [name, s] : {std::pair<const char*, const OneStep*>{"ScaLoRA (the rule)", &st_rule},
                                {"scalar (Theorem 3)", &st_scalar},
                                {"vanilla LoRA", &st_vanilla}})
    std::printf("    %-20s %14.6g %14.6g %14.6g\n", name, s->predicted, s->bound, s->actual);
  std::printf("  (the first-order prediction drops the lr^2 term of the factors' product: docs/theory.md 2)\n\n");
  std::printf("reference check (exact bound values and decisions; budgets: docs/numerics.md)\n");
  print_checks(cmp);
  return code;
}

int run_case(const Options& o) {
  const io::Case c = io::read_case(o.case_file);
  const Explanation e = explain(c.input, c.G, c.bound, c.mode);
  // With outputs: scalora-verify's verdict (default options), each tensor judged
  // in the precision its values carry, so a suite case gets its manifest's verdict.
  std::optional<reference::Comparison> cmp;
  std::vector<std::string> notes;
  if (c.has_outputs()) {
    reference::Verdict v = tools::verify(c, reference::VerifyOptions{});
    cmp = reference::Comparison{std::move(v.checks)};
    notes = std::move(v.notes);
  }
  const int code = cmp ? exit_code(*cmp) : 0;
  if (o.json) {
    nlohmann::json j = explanation_json(e);
    j["case"] = o.case_file;
    j["has_outputs"] = c.has_outputs();
    if (cmp) {
      j["checks"] = checks_json(*cmp);
      j["status"] = reference::to_string(cmp->status());
      j["notes"] = notes;
    } else {
      j["status"] = "explained";
    }
    j["exit_code"] = code;
    std::cout << j.dump(2) << "\n";
    return code;
  }
  std::printf("scalora-step: the inputs of %s\n\n", o.case_file.c_str());
  std::printf("layer     m = %ld, n = %ld, r = %ld; L = %.6g, lr = %.6g, lora_scale = %.6g\n", long(e.m), long(e.n),
              long(e.r), c.bound.L, c.bound.lr, c.bound.lora_scale);
  std::printf("          kappa = L lr lora_scale^2 = %.6g, c = 1/kappa = %.6g; mode %s\n\n", e.kappa, 1 / e.kappa,
              e.mode == scaling_mode::hybrid ? "hybrid" : "scalar");
  if (o.explain) {
    print_explanation(e);
  } else {
    std::printf("the rule: %s; decision margin %+.3g\n  alpha %s\n  beta  %s\n", to_string(e.rule), e.margin,
                vec(e.alpha).c_str(), vec(e.beta).c_str());
  }
  print_decreases(e);
  std::printf("(a case file holds no loss: the actual one-step loss needs one; see --example worked)\n\n");
  if (!cmp) {
    std::printf("the case holds no outputs: nothing to judge (scalora-verify judges a case with outputs)\n");
    return 0;
  }
  std::printf("the outputs in the case, judged as scalora-verify judges them (default options; docs/validating.md)\n");
  print_checks(*cmp);
  for (const auto& n : notes) std::printf("  note  %s\n", n.c_str());
  return code;
}

int run(const Options& o) { return o.case_file.empty() ? run_example(o) : run_case(o); }

}  // namespace

int main(int argc, char** argv) {
  try {
    return scalora::tools::close_stdout("scalora-step", run(parse(argc, argv)));
  } catch (const std::bad_alloc&) {
    std::cerr << "scalora-step: out of memory\n";
    return scalora::tools::kExitError;
  } catch (const UsageError& e) {
    std::cerr << "scalora-step: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const scalora::invalid_argument& e) {
    std::cerr << "scalora-step: " << e.what() << "\n";
    return 2;
  } catch (const scalora::io::io_error& e) {
    std::cerr << "scalora-step: " << e.what() << "\n";
    return e.problem() == scalora::io::io_problem::write_failed ? scalora::tools::kExitError
                                                                : scalora::tools::kExitInvalid;
  }
}
