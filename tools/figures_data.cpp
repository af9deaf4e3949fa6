// SPDX-License-Identifier: Apache-2.0
// scalora-figures-data: the data behind docs/figures/*.svg (tools/figures.sh
// plots them with gnuplot). Everything is computed by the library in double.
//
//   scalora-figures-data DIR
//
// Writes into DIR:
//   theorem3_<row>.grid     a b decrease       the bound's decrease over (a, b) for the
//                                              suite's hand cases of Theorem 3's rows
//   theorem3_<row>.points   a b label          the optimum on the quadrant and the
//                                              unconstrained minimiser of the quadratic
//   slice_{bound,actual}.grid  s t value       docs/theory.md's worked example: the plane of
//                                              squared scalings through vanilla, scalar and
//                                              column; the first-order bound after one SGD
//                                              step and the actual loss after it
//   slice.points            s t label
//   resplit_<name>.matrix   5 x 5 matrices     W_pt, A B^T, W before and after the re-split
//   rank_growth.dat         step rank_scalora rank_lora loss_scalora loss_lora
// Exit status 0, or 2 for a bad argument or a write error.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>

#include <Eigen/SVD>

#include "scalora/linalg/random.hpp"
#include "scalora/linalg/step.hpp"

namespace {

using namespace scalora;

struct Hand {
  Matrix<double> A, B, G;
  double L = 1, lr = 1;
};

/// The worked example of docs/theory.md (and of the suite's worked_example).
Hand worked() {
  Hand h;
  h.G = Matrix<double>::Zero(5, 5);
  for (int i = 0; i < 5; ++i) h.G(i, i) = 5 - i;
  h.A.resize(5, 2);
  h.A << 0, 0, 0, 0, 0, 0, 1, -1, 1, 0;
  h.B.resize(5, 2);
  h.B << 1, 0, 1, -1, -1, -1, 0, 0, 0, 0;
  h.lr = 1.0 / 6;
  return h;
}

std::ofstream open(const std::string& dir, const std::string& name) {
  std::ofstream f(dir + "/" + name);
  if (!f) throw std::runtime_error("cannot write " + dir + "/" + name);
  f.precision(8);
  return f;
}

/// Theorem 3 on one hand case: the decrease of the bound over a grid of (a, b)
/// (with a margin below 0 so that an unconstrained minimiser outside the
/// quadrant shows), the optimum and the unconstrained minimiser.
void theorem3(const std::string& dir, const std::string& name, const Hand& h) {
  const ScalingSystem<double> s = scaling_system(h.A, h.B, Matrix<double>(h.G * h.B), Matrix<double>(h.G.transpose() * h.A));
  const double kappa = h.L * h.lr, c = 1 / kappa;
  const double C = s.p * s.s - s.q * s.q, CA = s.s * s.x - s.q * s.y, CB = s.p * s.y - s.q * s.x;
  const ScalarSquares<double> opt = solve_scalar_system(s.p, s.q, s.s, s.x, s.y, kappa, 16 * 0x1p-52);
  const double a0 = c * CA / C, b0 = c * CB / C;
  auto decrease = [&](double a, double b) {
    return h.lr * (s.x * a + s.y * b) - h.L * h.lr * h.lr / 2 * (s.p * a * a + 2 * s.q * a * b + s.s * b * b);
  };
  // (a, b) from below the unconstrained minimiser (or a little below 0) to 1.5 times the larger optimum.
  const double hi_a = 1.5 * std::max({a0, opt.a, 1.0}), hi_b = 1.5 * std::max({b0, opt.b, 1.0});
  const double lo_a = std::min(1.5 * a0, -0.3 * hi_a), lo_b = std::min(1.5 * b0, -0.3 * hi_b);
  std::ofstream g = open(dir, "theorem3_" + name + ".grid");
  const int N = 120;
  for (int i = 0; i <= N; ++i) {
    const double a = lo_a + (hi_a - lo_a) * i / N;
    for (int j = 0; j <= N; ++j) {
      const double b = lo_b + (hi_b - lo_b) * j / N;
      g << a << " " << b << " " << decrease(a, b) << "\n";
    }
    g << "\n";
  }
  std::ofstream p = open(dir, "theorem3_" + name + ".points");
  p << opt.a << " " << opt.b << " \"optimum on the quadrant\"\n";
  p << a0 << " " << b0 << " \"unconstrained minimiser\"\n";
  std::ofstream m = open(dir, "theorem3_" + name + ".info");
  m << "p=" << s.p << " q=" << s.q << " s=" << s.s << " x=" << s.x << " y=" << s.y << " C=" << C << " C_A=" << CA
    << " C_B=" << CB << " best=" << decrease(opt.a, opt.b) << "\n";
}

/// Re-split and one SGD step on the worked example for squared scalings u.
struct WorkedStep {
  Hand h = worked();
  Matrix<double> W_star;
  WorkedStep() { W_star = h.A * h.B.transpose() - h.G; }  // l(W) = ||W - W*||^2 / 2, W_pt = 0
  double loss(const Matrix<double>& W) const { return (W - W_star).squaredNorm() / 2; }
  /// The first-order bound after one SGD step from the rescaled factors, and the actual loss.
  std::pair<double, double> after(const Vector<double>& u) const {
    const Index r = 2;
    Vector<double> alpha = u.head(r).cwiseSqrt(), beta = u.tail(r).cwiseSqrt();
    const Matrix<double> A = h.A * alpha.asDiagonal(), B = h.B * beta.asDiagonal();
    const Matrix<double> W_pt = h.A * h.B.transpose() - A * B.transpose();  // W unchanged
    const Matrix<double> first = -h.lr * (h.G * B * B.transpose() + A * A.transpose() * h.G);
    const double l0 = loss(h.A * h.B.transpose());
    const double predicted = l0 + h.G.cwiseProduct(first).sum() + h.L / 2 * first.squaredNorm();
    const Matrix<double> A1 = A - h.lr * h.G * B, B1 = B - h.lr * h.G.transpose() * A;
    return {predicted, loss(W_pt + A1 * B1.transpose())};
  }
};

void slice(const std::string& dir) {
  const WorkedStep w;
  Vector<double> uv = Vector<double>::Ones(4), us(4), uc(4);
  us << 27.0 / 11, 27.0 / 11, 9.0 / 4, 9.0 / 4;  // Theorem 3 (docs/theory.md 10)
  uc << 1, 5, 2, 3;                              // Theorem 5
  // Orthonormal coordinates of the plane through the three points.
  const Vector<double> e1 = (us - uv).normalized();
  Vector<double> e2 = (uc - uv) - (uc - uv).dot(e1) * e1;
  e2.normalize();
  auto coords = [&](const Vector<double>& u) { return std::pair<double, double>{(u - uv).dot(e1), (u - uv).dot(e2)}; };
  std::ofstream pb = open(dir, "slice_bound.grid"), pa = open(dir, "slice_actual.grid");
  const int N = 120;
  for (int i = 0; i <= N; ++i) {
    const double s = -2.5 + 7.5 * i / N;
    for (int j = 0; j <= N; ++j) {
      const double t = -2.5 + 7.5 * j / N;
      const Vector<double> u = uv + s * e1 + t * e2;
      if (u.minCoeff() < 0) {
        pb << s << " " << t << " NaN\n";
        pa << s << " " << t << " NaN\n";
        continue;
      }
      const auto [bound, actual] = w.after(u);
      pb << s << " " << t << " " << bound << "\n";
      pa << s << " " << t << " " << actual << "\n";
    }
    pb << "\n";
    pa << "\n";
  }
  std::ofstream p = open(dir, "slice.points");
  for (const auto& [u, label] : {std::pair<const Vector<double>*, const char*>{&uv, "vanilla"},
                                 {&us, "scalar (Thm 3)"},
                                 {&uc, "column (Thm 5)"}}) {
    const auto [s, t] = coords(*u);
    const auto [bound, actual] = w.after(*u);
    p << s << " " << t << " \"" << label << "\" " << bound << " " << actual << "\n";
  }
}

void write_matrix(const std::string& dir, const std::string& name, const Matrix<double>& x) {
  std::ofstream f = open(dir, "resplit_" + name + ".matrix");
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index j = 0; j < x.cols(); ++j) f << (j ? " " : "") << x(i, j) + 0.0;
    f << "\n";
  }
}

void resplit_figure(const std::string& dir) {
  const Hand h = worked();
  Vector<double> alpha(2), beta(2);
  alpha << 1, std::sqrt(5.0);
  beta << std::sqrt(2.0), std::sqrt(3.0);
  const Matrix<double> AB = h.A * h.B.transpose();
  const Matrix<double> A1 = h.A * alpha.asDiagonal(), B1 = h.B * beta.asDiagonal();
  const Matrix<double> W_pt1 = AB - A1 * B1.transpose();
  write_matrix(dir, "W_pt_before", Matrix<double>::Zero(5, 5));
  write_matrix(dir, "AB_before", AB);
  write_matrix(dir, "W", AB);
  write_matrix(dir, "W_pt_after", W_pt1);
  write_matrix(dir, "AB_after", A1 * B1.transpose());
}

Index numerical_rank(const Matrix<double>& D) {
  const Eigen::JacobiSVD<Matrix<double>> svd(D);
  const Vector<double>& s = svd.singularValues();
  if (s.size() == 0 || s(0) == 0) return 0;
  Index k = 0;
  while (k < s.size() && s(k) > 1e-10 * s(0)) ++k;
  return k;
}

/// Least squares l(W) = ||X W^T - Y||^2 / (2N) with a rank-16 target, r = 2:
/// ScaLoRA (the library's step, then SGD on the factors) against LoRA (SGD),
/// the rank of the accumulated update W_t - W_0 and the loss per step.
void rank_growth(const std::string& dir) {
  const Index m = 32, n = 24, r = 2, N = 96, k = 16;
  const Matrix<double> X = gaussian_matrix(N, n, 11) / std::sqrt(double(n));
  const Matrix<double> W0 = 0.5 * gaussian_matrix(m, n, 12) / std::sqrt(double(n));
  const Matrix<double> target = W0 + gaussian_matrix(m, k, 13) * gaussian_matrix(k, n, 14) / std::sqrt(double(k * n));
  const Matrix<double> Y = X * target.transpose();
  const Eigen::JacobiSVD<Matrix<double>> sx(X);
  const double L = sx.singularValues()(0) * sx.singularValues()(0) / double(N), lr = 0.5 / L;
  auto loss = [&](const Matrix<double>& W) { return (X * W.transpose() - Y).squaredNorm() / (2.0 * double(N)); };
  auto grad = [&](const Matrix<double>& W) { return Matrix<double>((X * W.transpose() - Y).transpose() * X / double(N)); };
  Layer<double> sl;
  sl.W_pt = W0;
  sl.A = gaussian_matrix(m, r, 15) / std::sqrt(double(m));
  sl.B = 0.1 * gaussian_matrix(n, r, 16) / std::sqrt(double(n));
  Layer<double> ll = sl;
  const Matrix<double> start = W0 + sl.A * sl.B.transpose();
  std::ofstream f = open(dir, "rank_growth.dat");
  f << "# step rank_scalora rank_lora loss_scalora loss_lora (m 32, n 24, r 2, target rank 16 above W_0)\n";
  StepOptions<double> so;
  so.bound.L = L;
  so.bound.lr = lr;
  for (int t = 0; t <= 100; ++t) {
    const Matrix<double> Ws = sl.W_pt + sl.A * sl.B.transpose(), Wl = ll.W_pt + ll.A * ll.B.transpose();
    f << t << " " << numerical_rank(Ws - start) << " " << numerical_rank(Wl - start) << " " << loss(Ws) << " "
      << loss(Wl) << "\n";
    for (Layer<double>* l : {&sl, &ll}) {
      const Matrix<double> G = grad(l->W_pt + l->A * l->B.transpose());
      l->grad_A = G * l->B;
      l->grad_B = G.transpose() * l->A;
      if (l == &sl) scalora_step(*l, so);
      const Matrix<double> A1 = l->A - lr * l->grad_A, B1 = l->B - lr * l->grad_B;
      l->A = A1;
      l->B = B1;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: scalora-figures-data DIR\n");
    return 2;
  }
  try {
    const std::string dir = argv[1];
    // The suite's scalar_only_beta_zero and scalar_only_alpha_zero (tools/scalora_vectors.cpp).
    Hand beta_zero, alpha_zero;
    for (Hand* h : {&beta_zero, &alpha_zero}) {
      h->A.resize(2, 2);
      h->B.resize(2, 2);
      h->G.resize(2, 2);
    }
    beta_zero.A << 0, 1, -1, 1;
    beta_zero.B << 0, -1, 0, 1;
    beta_zero.G << 1, 1, 0, -1;
    alpha_zero.A << 0, 0, 1, 0;
    alpha_zero.B << -1, 0, -1, -1;
    alpha_zero.G << -2, 1, 0, 1;
    theorem3(dir, "beta_zero", beta_zero);
    theorem3(dir, "alpha_zero", alpha_zero);
    theorem3(dir, "interior", worked());
    slice(dir);
    resplit_figure(dir);
    rank_growth(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scalora-figures-data: %s\n", e.what());
    return 2;
  }
  return 0;
}
