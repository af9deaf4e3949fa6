// SPDX-License-Identifier: Apache-2.0
// Cost of the scaling decision for one 4096 x 4096 layer, r = 8, on one core:
//   baseline         one read of the four factor matrices A, B, grad_A, grad_B
//   double           build M and lambda, solve, decide (scaling_system + optimal_scaling)
//   reference        exact M and lambda, exact decision, cpp_bin_float_50 values
// Prints Google Benchmark's table, then each time as a ratio to the baseline
// of the same run (docs/performance.md records the figures).
//
//   bench_scaling [--m M] [--n N] [--r R] [google benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

#include "scalora/reference.hpp"

namespace {

using namespace scalora;

Index g_m = 4096, g_n = 4096, g_r = 8;

struct Factors {
  Matrix<double> A, B, grad_A, grad_B;
};

const Factors& factors() {
  static const Factors f = [] {
    Factors x;
    // Gradients of a rank-16 G plus noise, formed without G: grad_A = G B, grad_B = G^T A.
    const Matrix<double> U = gaussian_matrix(g_m, 16, 1), V = gaussian_matrix(g_n, 16, 2);
    x.A = gaussian_matrix(g_m, g_r, 3) / std::sqrt(double(g_m));
    x.B = 0.01 * gaussian_matrix(g_n, g_r, 4);
    x.grad_A = U * (V.transpose() * x.B) + 1e-3 * gaussian_matrix(g_m, g_r, 5);
    x.grad_B = V * (U.transpose() * x.A) + 1e-3 * gaussian_matrix(g_n, g_r, 6);
    return x;
  }();
  return f;
}

void read_factors(benchmark::State& state) {
  const Factors& f = factors();
  for (auto _ : state) {
    double s = f.A.sum() + f.B.sum() + f.grad_A.sum() + f.grad_B.sum();
    benchmark::DoNotOptimize(s);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(sizeof(double)) * 2 * (g_m + g_n) * g_r);
}

void build_solve_decide_double(benchmark::State& state) {
  const Factors& f = factors();
  const ScalingTolerances<double> tol = ScalingTolerances<double>::defaults(g_r);
  branch b = branch::scalar;
  for (auto _ : state) {
    const ScalingSystem<double> sys = scaling_system(f.A, f.B, f.grad_A, f.grad_B);
    const Scaling<double> s = optimal_scaling(sys, 0.5, tol);
    b = s.applied;
    benchmark::DoNotOptimize(s.u.data());
  }
  state.SetLabel(to_string(b));
}

void reference_exact_mp50(benchmark::State& state) {
  const Factors& f = factors();
  BoundParameters<double> bp;
  bp.L = 1;
  bp.lr = 0.5;
  branch b = branch::scalar;
  for (auto _ : state) {
    const auto ref = reference::optimal_scaling<reference::mp50>(f.A, f.B, f.grad_A, f.grad_B, bp);
    b = ref.applied;
    benchmark::DoNotOptimize(ref.u.data());
  }
  state.SetLabel(to_string(b));
}

/// Console reporter that also remembers each benchmark's mean real time.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs)
      if (r.run_type == Run::RT_Iteration && r.iterations > 0)
        seconds[r.run_name.function_name] = r.real_accumulated_time / double(r.iterations);
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--m" || a == "--n" || a == "--r") && i + 1 < argc) {
      const long v = std::stol(argv[++i]);
      (a == "--m" ? g_m : a == "--n" ? g_n : g_r) = v;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int rc = int(rest.size());
  benchmark::Initialize(&rc, rest.data());
  benchmark::RegisterBenchmark("read_factors", read_factors)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("build_solve_decide_double", build_solve_decide_double)->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("reference_exact_mp50", reference_exact_mp50)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  std::printf("layer %ld x %ld, r = %ld, one core\n", long(g_m), long(g_n), long(g_r));
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double base = reporter.seconds["read_factors"];
  std::printf("\n%-28s %14s %12s %12s\n", "benchmark", "time", "/ baseline", "target");
  auto row = [&](const char* name, const char* target) {
    const double t = reporter.seconds[name];
    std::printf("%-28s %11.3f ms %12.1f %12s\n", name, t * 1e3, t / base, target);
  };
  row("read_factors", "baseline");
  row("build_solve_decide_double", "<= 1 ms");
  row("reference_exact_mp50", "<= 5 s");
  return 0;
}
