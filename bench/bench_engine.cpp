// SPDX-License-Identifier: Apache-2.0
// The reference's engine, by rank (docs/numerics.md, "The reference's engine";
// the decision in docs/decisions.md, D12): for one 384 x 512 layer per rank,
// the time of each candidate way to decide Theorem 5's condition and enclose
// the column optimum, same run:
//   certified   M, lambda enclosed in double (GEMMs + a posteriori bounds) and
//               Rump's verified solve (reference/certified.hpp): the first path
//   arb53/128   the same solve as Arb ball arithmetic (arb_mat_solve) on the
//               exact M at 53 and 128 bits
//   exact       the exact Gram matrices (FLINT integer products) and Dixon's
//               p-adic solve (fmpq_mat_solve_dixon): the fallback
//   rref        the exact reduced row echelon form (fmpq_mat_rref), what a
//               singular M needs
// Usage: bench_engine [--max-rank R]   (default 64; 128 takes about a minute)
#include <arb_mat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "scalora/linalg/random.hpp"
#include "scalora/reference/optimum.hpp"

namespace {

using namespace scalora;
using namespace scalora::reference;

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Index max_rank = 64;
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--max-rank" && i + 1 < argc) max_rank = std::atol(argv[++i]);
  std::printf("%5s %12s %12s %12s %12s %12s %12s\n", "2r", "certified", "arb53", "arb128", "exact Gram", "Dixon", "rref");
  for (Index r = 4; r <= max_rank; r *= 2) {
    const Index m = 384, n = 512;
    const Matrix<double> G = gaussian_matrix(m, n, 7 + std::uint64_t(r));
    const Matrix<double> A = gaussian_matrix(m, r, 8 + std::uint64_t(r)), B = gaussian_matrix(n, r, 9 + std::uint64_t(r));
    const Matrix<double> gA = G * B, gB = G.transpose() * A;
    const BoundParameters<double> bp{4.0, 0.05, 1.0};
    double t_cert = seconds([&] {
      ScalingProblem P(A, B, gA, gB, bp, false);
      (void)P.column();
    });
    ScalingProblem P(A, B, gA, gB, bp);
    ExactSystem ex;
    const double t_gram = seconds([&] { ex = exact_scaling_system(A, B, gA, gB); });
    auto arb_solve = [&](long prec) {
      const long n2 = long(2 * r);
      arb_mat_t Ma, la, va;
      arb_mat_init(Ma, n2, n2);
      arb_mat_init(la, n2, 1);
      arb_mat_init(va, n2, 1);
      for (long i = 0; i < n2; ++i) {
        const Ball li(ex.lambda[std::size_t(i)]);
        arb_set(arb_mat_entry(la, i, 0), li.get());
        for (long j = 0; j < n2; ++j) {
          const Ball mij(ex.M(i, j));
          arb_set(arb_mat_entry(Ma, i, j), mij.get());
        }
      }
      const double t = seconds([&] { arb_mat_solve(va, Ma, la, prec); });
      arb_mat_clear(Ma);
      arb_mat_clear(la);
      arb_mat_clear(va);
      return t;
    };
    const double t_arb53 = arb_solve(53), t_arb128 = arb_solve(128);
    const double t_dixon = seconds([&] { (void)exact_unique_solution(ex.M, ex.lambda); });
    const double t_rref = seconds([&] { (void)exact_echelon(ex.M, ex.lambda); });
    std::printf("%5ld %11.4fs %11.4fs %11.4fs %11.4fs %11.4fs %11.4fs\n", long(2 * r), t_cert, t_arb53, t_arb128,
                t_gram, t_dixon, t_rref);
    std::fflush(stdout);
  }
  return 0;
}
