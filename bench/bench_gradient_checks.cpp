// SPDX-License-Identifier: Apache-2.0
// Cost of the checks that read G (reference/gradient_checks.hpp) against
// verify.hpp's first version of them (first_version below), on realistic shapes: 4096 x 4096 and 4096 x 14336,
// r = 8, the layer of scalora-vectors' large cases (G of rank 2r + 2 plus noise,
// B at scale 0.01, s = 1) with G, A, B and the gradients rounded to F32, built
// in memory. Rows:
//   read_G             ||G||_F^2: one read of G (the baseline)
//   gemm_GB            G B in double, one GEMM pass of width r
//   old_gradients      first_version::gradient_value for grad_A and grad_B (G^T copied)
//   old_theorem1       first_version::leading_energy (subspace iteration, 8 iterations)
//   new_gradients      check_gradients (one pass over G, four GEMMs of width r per block)
//   new_theorem1       leading_energy_bounds (defaults: p = k + 8, q = 1)
//   new_fused          g_checks: both, the gradient products in Theorem 1's last pass
// Median of --repeat runs (default 3), wall clock and this process's CPU time
// (the machine may be shared: CPU time is the steadier figure for one thread).
//
//   bench_gradient_checks [--repeat N] [--shape MxN] [--threads T] [--q Q] [--oversampling P] [--block B] [--new-only]
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "scalora/linalg/random.hpp"
#include "scalora/reference/gradient_checks.hpp"

namespace {

using namespace scalora;

struct Seconds {
  double wall = 0, cpu = 0;
};

Seconds median_seconds(int repeat, const std::function<void()>& f) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    f();
    cpu.push_back(double(std::clock() - c0) / CLOCKS_PER_SEC);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (wall.empty()) return {};
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

/// The checks as verify.hpp first had them: whole-matrix expressions (|X| and
/// G^T formed as m x n temporaries) and 18 passes of width k + 8 for Theorem 1.
namespace first_version {

/// ||grad - lora_scale X Y||_F / (lora_scale || |X| |Y| ||_F) / eps.
double gradient_value(const Matrix<double>& grad, const Matrix<double>& X, const Matrix<double>& Y, double s,
                      double eps) {
  const double num = (grad - s * (X * Y)).norm();
  const double den = s * (X.cwiseAbs() * Y.cwiseAbs()).norm();
  return num == 0 ? 0.0 : (den > 0 ? num / den / eps : INFINITY);
}

/// Ritz estimate of sum_{i<=k} sigma_i^2: p = k + 8 vectors, 8 iterations.
double leading_energy(const Matrix<double>& G, Index k) {
  const Index p = std::min(std::min(G.rows(), G.cols()), k + 8);
  auto orth = [](const Matrix<double>& y) {
    const Eigen::HouseholderQR<Matrix<double>> qr(y);
    return Matrix<double>(qr.householderQ() * Matrix<double>::Identity(y.rows(), y.cols()));
  };
  Matrix<double> U = orth(G * gaussian_matrix(G.cols(), p, 20251));
  for (int it = 0; it < 8; ++it) U = orth(G * orth(G.transpose() * U));
  const Eigen::JacobiSVD<Matrix<double>> svd(Matrix<double>(U.transpose() * G));
  return svd.singularValues().head(std::min(k, p)).squaredNorm();
}

}  // namespace first_version

Matrix<double> as_f32(const Matrix<double>& x) { return x.cast<float>().cast<double>(); }

struct BenchLayer {
  Matrix<double> G, A, B, grad_A, grad_B;
};

/// scalora-vectors' random_case(m, n, 8, 7001, 0.01): G of rank 2r + 2 plus noise.
BenchLayer make_layer(Index m, Index n, Index r) {
  const std::uint64_t seed = 7001;
  const Index k = 2 * r + 2;
  BenchLayer l;
  const Matrix<double> G = gaussian_matrix(m, k, seed) * gaussian_matrix(k, n, seed + 1) / std::sqrt(double(n)) +
                           0.1 * gaussian_matrix(m, n, seed + 2) / std::sqrt(double(n));
  l.A = gaussian_matrix(m, r, seed + 3) / std::sqrt(double(m));
  l.B = 0.01 * gaussian_matrix(n, r, seed + 4) / std::sqrt(double(n));
  l.grad_A = as_f32(G * l.B);
  l.grad_B = as_f32(G.transpose() * l.A);
  l.G = as_f32(G);
  l.A = as_f32(l.A);
  l.B = as_f32(l.B);
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  bool old = true;
  std::vector<std::pair<Index, Index>> shapes = {{4096, 4096}, {4096, 14336}};
  reference::GChecksOptions opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--q" && i + 1 < argc) opt.power_iterations = std::atoi(argv[++i]);
    else if (a == "--oversampling" && i + 1 < argc) opt.oversampling = std::atoi(argv[++i]);
    else if (a == "--block" && i + 1 < argc) opt.block = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) opt.threads = std::atoi(argv[++i]);
    else if (a == "--new-only") old = false;
    else if (a == "--shape" && i + 1 < argc) {
      long m = 0, n = 0;
      if (std::sscanf(argv[++i], "%ldx%ld", &m, &n) != 2 || m < 1 || n < 1) return 2;
      shapes = {{m, n}};
    } else {
      std::fprintf(stderr,
                   "usage: bench_gradient_checks [--repeat N] [--shape MxN] [--threads T] [--q Q] [--oversampling P] "
                   "[--block B] [--new-only]\n");
      return 2;
    }
  }
  const Index r = 8, k = 2 * r;
  const double s = 1, eps = std::ldexp(1.0, -23);
  std::printf("checks that read G, r = 8, F32 values in double; median of %d runs; new: %d thread(s)\n\n", repeat,
              opt.threads);
  std::printf("%-12s %-16s %10s %9s %10s\n", "shape", "what", "wall", "/ read_G", "cpu");
  for (const auto& [m, n] : shapes) {
    const BenchLayer l = make_layer(m, n, r);
    const std::string shape = std::to_string(m) + "x" + std::to_string(n);
    double sink = 0;
    const Seconds read = median_seconds(repeat, [&] { sink += l.G.squaredNorm(); });
    Matrix<double> GB;
    const Seconds gemm = median_seconds(repeat, [&] { GB.noalias() = l.G * l.B; });
    double old_a = NAN, old_b = NAN;
    const int old_repeat = old ? repeat : 0;
    const Seconds old_grad = median_seconds(old_repeat, [&] {
      old_a = first_version::gradient_value(l.grad_A, l.G, l.B, s, eps);
      old_b = first_version::gradient_value(l.grad_B, l.G.transpose(), l.A, s, eps);
    });
    double old_energy = NAN;
    const Seconds old_thm = median_seconds(old_repeat, [&] { old_energy = first_version::leading_energy(l.G, k); });
    reference::GradientChecks g;
    const Seconds new_grad =
        median_seconds(repeat, [&] { g = reference::check_gradients(l.G, l.A, l.B, l.grad_A, l.grad_B, s, opt); });
    reference::LeadingEnergy e;
    const Seconds new_thm = median_seconds(repeat, [&] { e = reference::leading_energy_bounds(l.G, k, opt); });
    reference::GChecks f;
    const Seconds fused =
        median_seconds(repeat, [&] { f = reference::g_checks(l.G, l.A, l.B, l.grad_A, l.grad_B, s, k, opt); });
    auto row = [&](const char* what, Seconds t) {
      std::printf("%-12s %-16s %8.3f s %9.2f %8.3f s\n", shape.c_str(), what, t.wall, t.wall / read.wall, t.cpu);
    };
    auto sum = [](Seconds x, Seconds y) { return Seconds{x.wall + y.wall, x.cpu + y.cpu}; };
    row("read_G", read);
    row("gemm_GB", gemm);
    if (old) {
      row("old_gradients", old_grad);
      row("old_theorem1", old_thm);
      row("old_total", sum(old_grad, old_thm));
    }
    row("new_gradients", new_grad);
    row("new_theorem1", new_thm);
    row("new_total", sum(new_grad, new_thm));
    row("new_fused", fused);
    std::printf("%-12s grad_A: old %.4g eps, new %.4g eps (own %.2g eps, entrywise %.4g eps, factor %.9g)\n",
                shape.c_str(), old_a, g.grad_A.at_s.value / eps, g.grad_A.at_s.own / eps,
                g.grad_A.at_s.entrywise / eps, g.grad_A.factor);
    std::printf("%-12s grad_B: old %.4g eps, new %.4g eps (own %.2g eps, entrywise %.4g eps, factor %.9g)\n",
                shape.c_str(), old_b, g.grad_B.at_s.value / eps, g.grad_B.at_s.own / eps,
                g.grad_B.at_s.entrywise / eps, g.grad_B.factor);
    std::printf("%-12s theorem 1, k = %ld: old %.10g (Ritz values, 8 iterations); new [%.10g, %.10g] (width %.2e "
                "relative; Ritz %.10g), %s, %d passes; fused: %d reads of G\n\n",
                shape.c_str(), long(k), old_energy, e.lower, e.upper, (e.upper - e.lower) / e.lower, e.estimate,
                e.method.c_str(), e.passes, f.reads);
    if (sink < 0) std::printf("%g\n", sink);
  }
  return 0;
}
