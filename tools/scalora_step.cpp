// SPDX-License-Identifier: Apache-2.0
// scalora-step: one ScaLoRA step on a built-in example layer, in double,
// checked against the reference (exact decisions, cpp_bin_float_50).
//
//   scalora-step [--example least-squares|worked] [--seed N] [--m M] [--n N] [--r R]
//                [--lr-factor F] [--json]
//
// Exit status: 0 every reference check passed, 1 a check failed, 2 bad arguments.
#include <Eigen/Eigenvalues>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "scalora/reference.hpp"

namespace {

using namespace scalora;
using scalora::reference::mp50;

struct Options {
  std::string example = "least-squares";
  std::uint64_t seed = 1;
  Index m = 64, n = 48, r = 4;
  double lr_factor = 0.5;  // lr = lr_factor / L
  bool json = false;
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: scalora-step [--example least-squares|worked] [--seed N] [--m M] [--n N] [--r R]\n"
    "                    [--lr-factor F] [--json]\n"
    "  least-squares: l(W) = ||X W^T - Y||^2 / (2N) on generated data, L = ||X^T X||_2 / N,\n"
    "                 lr = F / L (default F = 0.5), W m x n (default 64 x 48), rank r (default 4)\n"
    "  worked:        the worked example of docs/theory.md (5 x 5, r = 2, L = 1, lr = 1/6)\n";

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

/// Loss after one SGD step on (A, B) from the given factors (simultaneous update).
double loss_after_sgd(const Example& ex, const Matrix<double>& W_pt, const Matrix<double>& A, const Matrix<double>& B,
                      double lr) {
  const Matrix<double> A1 = A - lr * ex.G * B, B1 = B - lr * ex.G.transpose() * A;
  return ex.loss(W_pt + A1 * B1.transpose());
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

int run(const Options& o) {
  const Example ex = o.example == "worked" ? worked() : least_squares(o);
  const Layer<double> input = ex.layer;
  Layer<double> layer = ex.layer;
  StepOptions<double> so;
  so.bound = ex.bound;
  const StepResult<double> res = scalora_step(layer, so);
  const reference::Comparison cmp =
      reference::compare_step(input, layer, res.scaling.alpha, res.scaling.beta, ex.bound);
  const double exact_margin = cmp.find("branch") ? cmp.find("branch")->value : 0.0;
  const bool exact_column = cmp.find("branch") && cmp.find("branch")->detail.find("exact decision column") != std::string::npos;
  const Index r = input.A.cols();
  const SvdOptimum<double> svd = svd_optimum(ex.G, r, ex.bound.L, ex.bound.lr);

  const double loss0 = ex.loss(input.W_pt + input.A * input.B.transpose());
  const double loss_scalora = loss_after_sgd(ex, layer.W_pt, layer.A, layer.B, ex.bound.lr);
  const double loss_vanilla = loss_after_sgd(ex, input.W_pt, input.A, input.B, ex.bound.lr);
  using reference::check_status;
  const int failed = int(std::count_if(cmp.checks.begin(), cmp.checks.end(),
                                       [](const auto& c) { return c.status == check_status::fail; }));
  const int decided = int(std::count_if(cmp.checks.begin(), cmp.checks.end(), [](const auto& c) { return c.decides(); }));
  const int exit_code = cmp.status() == reference::verdict_status::pass ? 0 : cmp.status() == reference::verdict_status::fail ? 1 : 4;

  if (o.json) {
    nlohmann::json j;
    j["example"] = ex.description;
    j["L"] = ex.bound.L;
    j["lr"] = ex.bound.lr;
    j["kappa"] = ex.bound.kappa();
    j["branch"] = to_string(res.scaling.applied);
    j["reference_branch"] = exact_column ? "column" : "scalar";
    j["rank_M"] = res.scaling.column.rank;
    j["margin"] = res.scaling.column.margin;
    j["exact_margin"] = exact_margin;
    j["alpha"] = std::vector<double>(res.scaling.alpha.data(), res.scaling.alpha.data() + r);
    j["beta"] = std::vector<double>(res.scaling.beta.data(), res.scaling.beta.data() + r);
    j["bound_decrease"] = {{"svd", svd.bound_decrease},
                           {"applied", res.bound_decrease},
                           {"scalar", res.scalar_bound_decrease},
                           {"vanilla", res.vanilla_bound_decrease}};
    j["loss"] = {{"before", loss0}, {"after_scalora_sgd", loss_scalora}, {"after_vanilla_sgd", loss_vanilla}};
    for (const auto& c : cmp.checks)
      j["checks"].push_back({{"id", c.id},
                             {"name", c.name},
                             {"status", reference::to_string(c.status)},
                             {"value", c.value},
                             {"tolerance", c.tolerance},
                             {"unit", c.unit},
                             {"detail", c.detail}});
    j["status"] = reference::to_string(cmp.status());
    std::cout << j.dump(2) << "\n";
    return exit_code;
  }

  std::printf("scalora-step: one ScaLoRA step on a built-in layer, checked against the reference\n\n");
  std::printf("layer     %s\n", ex.description.c_str());
  std::printf("bound     L = %.6g, lr = %.6g, kappa = L lr = %.6g\n\n", ex.bound.L, ex.bound.lr, ex.bound.kappa());
  std::printf("step (double)\n");
  std::printf("  branch  %s (%s), M rank %d of %d, decision margin %+.3g (exact %+.3g)\n",
              to_string(res.scaling.applied),
              res.scaling.applied == branch::column ? to_string(res.scaling.column.method) : to_string(res.scalar_kind),
              res.scaling.column.rank, int(2 * r), res.scaling.column.margin, exact_margin);
  std::printf("  alpha   %s\n  beta    %s\n", vec(res.scaling.alpha).c_str(), vec(res.scaling.beta).c_str());
  std::printf("  predicted decrease of the loss bound (first order):\n");
  std::printf("    SVD optimum (Theorem 1)  %12.6g\n", svd.bound_decrease);
  if (res.scaling.applied == branch::column) std::printf("    column (Theorem 5)       %12.6g  <- applied\n", res.bound_decrease);
  std::printf("    scalar (Theorem 3)       %12.6g%s\n", res.scalar_bound_decrease,
              res.scaling.applied == branch::scalar ? "  <- applied" : "");
  std::printf("    vanilla LoRA             %12.6g\n", res.vanilla_bound_decrease);
  std::printf("  one SGD step afterwards:  loss %.6g -> %.6g (ScaLoRA), %.6g (vanilla LoRA)\n\n", loss0, loss_scalora,
              loss_vanilla);
  std::printf("reference check (exact bound values and decisions; budgets: docs/numerics.md)\n");
  for (const auto& c : cmp.checks)
    std::printf("  %-5s %-16s %10.3g %s %-10.3g %s%s%s\n", reference::to_string(c.status), c.id.c_str(), c.value,
                c.decides() ? "<=" : "  ", c.tolerance, c.name.c_str(), c.detail.empty() ? "" : "; ", c.detail.c_str());
  std::printf("\n%d of %d checks passed, %d failed: %s\n", decided - failed, decided, failed,
              reference::to_string(cmp.status()));
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const UsageError& e) {
    std::cerr << "scalora-step: " << e.what() << "\n" << kUsage;
    return 2;
  } catch (const scalora::invalid_argument& e) {
    std::cerr << "scalora-step: " << e.what() << "\n";
    return 2;
  }
}
