// SPDX-License-Identifier: Apache-2.0
// The loss upper bound (spec sections 2 and 9): for a loss whose gradient is
// L-Lipschitz, the exact increment of one gradient step from the rescaled
// factors satisfies the descent lemma
//   l(W + Delta) <= l(W) + <G, Delta> + (L/2) ||Delta||^2,
// and the predicted decrease of the bound, eta lambda^T u - (L eta^2 / 2)
// u^T M u for squared scalings u, matches the actual decrease
// l(W) - l(W + Delta(eta)) up to O(eta^2) as eta -> 0 (the fitted log-log
// slope of the difference is printed and must be >= 1.9).
// Losses with a known L: least squares (L = ||X^T X||_2 / N), logistic
// regression (L = ||X^T X||_2 / (4N)), a softmax cross-entropy head
// (L = ||X^T X||_2 / (2N)). In cpp_bin_float_50.
// Code: linalg/objective.hpp (exact_increment), linalg/optimal_scaling.hpp.
#include <Eigen/Eigenvalues>

#include "check.hpp"

using namespace scalora;
using namespace scalora::proofs;

namespace {

struct Loss {
  std::string name;
  std::function<mp50(const Mat&)> value;
  std::function<Mat(const Mat&)> gradient;
  double L;
};

mp50 log1pexp(const mp50& z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

Loss least_squares(const Mat& X, const Mat& Y, double L) {
  const mp50 N = X.rows();
  return {"least squares", [=](const Mat& W) { return (X * W.transpose() - Y).squaredNorm() / (2 * N); },
          [=](const Mat& W) { return Mat((X * W.transpose() - Y).transpose() * X / N); }, L};
}

Loss logistic(const Mat& X, const Mat& Y, double L) {
  const mp50 N = X.rows();
  return {"logistic regression",
          [=](const Mat& W) {
            const Mat Z = X * W.transpose();
            mp50 s = 0;
            for (Index i = 0; i < Z.rows(); ++i)
              for (Index k = 0; k < Z.cols(); ++k) s += log1pexp(Z(i, k)) - Y(i, k) * Z(i, k);
            return s / N;
          },
          [=](const Mat& W) {
            Mat S = X * W.transpose();
            for (Index i = 0; i < S.rows(); ++i)
              for (Index k = 0; k < S.cols(); ++k) S(i, k) = 1 / (1 + exp(-S(i, k))) - Y(i, k);
            return Mat(S.transpose() * X / N);
          },
          L};
}

Loss softmax_ce(const Mat& X, const std::vector<Index>& label, double L) {
  const mp50 N = X.rows();
  auto probs = [=](const Mat& W) {
    Mat P = X * W.transpose();
    for (Index i = 0; i < P.rows(); ++i) {
      const mp50 zmax = P.row(i).maxCoeff();
      mp50 sum = 0;
      for (Index k = 0; k < P.cols(); ++k) sum += (P(i, k) = exp(P(i, k) - zmax));
      P.row(i) /= sum;
    }
    return P;
  };
  return {"softmax cross-entropy head",
          [=](const Mat& W) {
            const Mat P = probs(W);
            mp50 s = 0;
            for (Index i = 0; i < P.rows(); ++i) s -= log(P(i, label[std::size_t(i)]));
            return s / N;
          },
          [=](const Mat& W) {
            Mat P = probs(W);
            for (Index i = 0; i < P.rows(); ++i) P(i, label[std::size_t(i)]) -= 1;
            return Mat(P.transpose() * X / N);
          },
          L};
}

/// lambda_max(X^T X) / N in double, rounded up by 1e-12 relative (L may only be
/// over-estimated for the descent lemma to hold).
double gram_norm(const Mat& X) {
  const Matrix<double> Xd = X.cast<double>();
  const Eigen::SelfAdjointEigenSolver<Matrix<double>> es(Xd.transpose() * Xd, Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff() / double(X.rows()) * (1 + 1e-12);
}

void check_loss(Report& rep, const Loss& loss, const Mat& W_pt, const Mat& A, const Mat& B) {
  rep.section(loss.name + " (L = " + Report::num(loss.L) + ")");
  const Mat W = W_pt + A * B.transpose();
  const Mat G = loss.gradient(W);
  const mp50 l0 = loss.value(W), L = loss.L;
  const ScalingSystem<mp50> sys = scaling_system(A, B, Mat(G * B), Mat(G.transpose() * A));
  const mp50 eta0 = mp50(0.5) / L;
  const Scaling<mp50> s = optimal_scaling(sys, L * eta0, ScalingTolerances<mp50>::defaults(A.cols()));
  const Mat At = A * s.alpha.asDiagonal(), Bt = B * s.beta.asDiagonal();
  rep.note(std::string("scaling: ") + to_string(s.applied));

  // Descent lemma for the exact increment, ScaLoRA and vanilla factors, several eta.
  for (double f : {0.25, 0.5, 1.0, 2.0}) {
    const mp50 eta = mp50(f) / L;
    for (int vanilla = 0; vanilla < 2; ++vanilla) {
      const Mat& Af = vanilla ? A : At;
      const Mat& Bf = vanilla ? B : Bt;
      const Mat D = exact_increment(G, Af, Bf, eta);
      const mp50 lhs = loss.value(W + D), rhs = l0 + (G.cwiseProduct(D)).sum() + L / 2 * D.squaredNorm();
      rep.check(std::string("descent lemma, ") + (vanilla ? "vanilla" : "rescaled") + " factors, eta = " +
                    Report::num(f) + "/L",
                double((rhs - lhs) / (abs(l0) + 1)), "bound - loss = " + Report::num(double(rhs - lhs)));
    }
  }

  // First-order match: fixed u, eta -> 0.
  std::vector<double> le, ld;
  for (int k = 0; k <= 12; ++k) {
    const mp50 eta = eta0 / pow(mp50(2), k);
    const Mat D = exact_increment(G, At, Bt, eta);
    const mp50 actual = l0 - loss.value(W + D);
    const BoundParameters<mp50> bp{L, eta, mp50(1)};
    const mp50 predicted = bound_decrease(sys, s.u, bp);
    if (k >= 6) {
      le.push_back(std::log(double(eta)));
      ld.push_back(std::log(double(abs(actual - predicted))));
    }
  }
  const double n = double(le.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < le.size(); ++i) {
    sx += le[i];
    sy += ld[i];
    sxx += le[i] * le[i];
    sxy += le[i] * ld[i];
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  rep.check("predicted decrease matches the actual one up to O(eta^2): fitted slope >= 1.9", slope - 1.9,
            "log-log slope of |actual - predicted| over eta = eta0/2^6 .. eta0/2^12: " + Report::num(slope));
}

}  // namespace

int main() {
  return run("The loss bound: descent lemma for the exact increment, and the predicted decrease to first order",
             [](Report& rep) {
               const Index N = 40, n = 6, m = 5, r = 2;
               const Mat X = random_mat(N, n, 1);
               const Mat W_pt = random_mat(m, n, 2, 0.3), A = random_mat(m, r, 3, 0.3), B = random_mat(n, r, 4, 0.3);
               const double g = gram_norm(X);
               check_loss(rep, least_squares(X, random_mat(N, m, 5), g), W_pt, A, B);
               Mat Y(N, m);
               const Matrix<double> u = gaussian_matrix(N, m, 6);
               for (Index i = 0; i < N; ++i)
                 for (Index k = 0; k < m; ++k) Y(i, k) = u(i, k) > 0 ? 1 : 0;
               check_loss(rep, logistic(X, Y, g / 4), W_pt, A, B);
               std::vector<Index> label(N);
               for (Index i = 0; i < N; ++i) label[std::size_t(i)] = Index(std::abs(u(i, 0)) * 7) % m;
               check_loss(rep, softmax_ce(X, label, g / 2), W_pt, A, B);
             });
}
