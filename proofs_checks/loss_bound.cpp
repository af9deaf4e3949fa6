// SPDX-License-Identifier: Apache-2.0
// The loss upper bound (spec sections 2 and 9): for a loss whose gradient is
// L-Lipschitz, the exact increment of one gradient step from the rescaled
// factors satisfies the descent lemma
//   l(W + Delta) <= l(W) + <G, Delta> + (L/2) ||Delta||^2,
// and the library's predicted decrease of the bound for squared scalings u,
//   bound_decrease(eta) = eta lambda^T u - (L eta^2 / 2) u^T M u,
// is that bound for the first-order part of the increment, term by term as a
// polynomial in eta: the increment is exactly Delta(eta) = eta D1 + eta^2 D2
// (D1 = -(G B~ B~^T + A~ A~^T G), D2 = G B~ A~^T G), and with
// Delta = eta D1 the bound's decrease -<G, Delta> - (L/2)||Delta||^2 has the
// eta coefficient -<G, D1> = lambda^T u and the eta^2 coefficient
// -(L/2)||D1||^2 = -(L/2) u^T M u. The coefficients are read off the library's
// functions (bound_decrease and exact_increment at eta = h, 2h, 3h, 4h); the
// increment is checked against one explicit gradient step of the factors.
// The terms the paper's bound drops (eta^2 <G, D2>, eta^3, eta^4) are printed.
// Also: the predicted decrease matches the actual one l(W) - l(W + Delta(eta))
// up to O(eta^2) as eta -> 0 (fitted log-log slope >= 1.9).
// Losses with a known L: least squares (L = ||X^T X||_2 / N), logistic
// regression (L = ||X^T X||_2 / (4N)), a softmax cross-entropy head
// (L = ||X^T X||_2 / (2N)). In cpp_bin_float_50.
// Code: linalg/objective.hpp (exact_increment), linalg/optimal_scaling.hpp
// (bound_decrease), core/bound_decrease.hpp.
#include <Eigen/Eigenvalues>
#include <array>
#include <functional>
#include <vector>

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

/// Monomial coefficients c_0..c_3 of the cubic through (x_k, y_k), k = 0..3
/// (Newton's divided differences; V is a scalar or a matrix).
template <class V>
std::array<V, 4> cubic_coefficients(const std::array<mp50, 4>& x, std::array<V, 4> d) {
  for (int j = 1; j < 4; ++j)
    for (int i = 3; i >= j; --i) d[std::size_t(i)] = (d[std::size_t(i)] - d[std::size_t(i - 1)]) / (x[std::size_t(i)] - x[std::size_t(i - j)]);
  const mp50 s1 = x[0] + x[1] + x[2], s2 = x[0] * x[1] + x[0] * x[2] + x[1] * x[2], s3 = x[0] * x[1] * x[2];
  return {V(d[0] - d[1] * x[0] + d[2] * (x[0] * x[1]) - d[3] * s3), V(d[1] - d[2] * (x[0] + x[1]) + d[3] * s2),
          V(d[2] - d[3] * s1), V(d[3])};
}

/// The library's predicted decrease and the exact increment's descent-lemma
/// bound, term by term in eta, for the factors A diag(alpha), B diag(beta) of u.
void check_polynomials(Report& rep, const std::string& what, const Mat& G, const Mat& A, const Mat& B,
                       const ScalingSystem<mp50>& sys, const Vec& u, const mp50& L, const mp50& h) {
  const Index r = A.cols();
  Mat At = A, Bt = B;
  for (Index j = 0; j < r; ++j) {
    At.col(j) *= sqrt(u(j));
    Bt.col(j) *= sqrt(u(r + j));
  }
  const std::array<mp50, 4> eta{h, 2 * h, 3 * h, 4 * h};
  std::array<mp50, 4> f;
  std::array<Mat, 4> D;
  double step_err = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    f[k] = bound_decrease(sys, u, BoundParameters<mp50>{L, eta[k], mp50(1)});
    D[k] = exact_increment(G, At, Bt, eta[k]);
    // One explicit gradient step of the factors, product difference.
    const Mat A1 = At - eta[k] * (G * Bt), B1 = Bt - eta[k] * (G.transpose() * At);
    const Mat step = A1 * B1.transpose() - At * Bt.transpose();
    step_err = std::max(step_err, double((D[k] - step).norm() / step.norm()));
  }
  rep.check(what + ": exact_increment = A~' B~'^T - A~ B~^T after one gradient step (eta = h..4h)", 1e-40 - step_err,
            "relative error " + Report::num(step_err));
  const std::array<mp50, 4> c = cubic_coefficients(eta, f);
  const std::array<Mat, 4> Dc = cubic_coefficients(eta, D);
  const mp50 fscale = abs(c[1]) * h + abs(c[2]) * h * h + mp50(1e-300);
  const mp50 dscale = Dc[1].norm() * h + Dc[2].norm() * h * h + mp50(1e-300);
  const double extra_f = double((abs(c[0]) + abs(c[3]) * h * h * h) / fscale);
  const double extra_d = double((Dc[0].norm() + Dc[3].norm() * h * h * h) / dscale);
  rep.check(what + ": bound_decrease(eta) has no eta^0 and no eta^3 term", 1e-35 - extra_f,
            "|c0| + |c3| h^3 = " + Report::num(extra_f) + " of the decrease");
  rep.check(what + ": exact_increment(eta) = eta D1 + eta^2 D2 (no other term)", 1e-35 - extra_d,
            "relative " + Report::num(extra_d));
  // The descent-lemma bound of Delta = eta D1 + eta^2 D2:
  //   -<G, Delta> - (L/2)||Delta||^2 = eta b1 + eta^2 b2 + eta^3 b3 + eta^4 b4.
  const Mat& D1 = Dc[1];
  const Mat& D2 = Dc[2];
  const mp50 b1 = -(G.cwiseProduct(D1)).sum();
  const mp50 first_order_b2 = -L / 2 * D1.squaredNorm();
  const mp50 dropped_b2 = -(G.cwiseProduct(D2)).sum();
  const mp50 b3 = -L * (D1.cwiseProduct(D2)).sum(), b4 = -L / 2 * D2.squaredNorm();
  const double e1 = reldiff(c[1], b1), e2 = reldiff(c[2], first_order_b2);
  rep.check(what + ": eta^1: lambda^T u = -<G, D1>", 1e-35 - e1,
            Report::num(double(c[1])) + " vs " + Report::num(double(b1)) + ", relative " + Report::num(e1));
  rep.check(what + ": eta^2: -(L/2) u^T M u = -(L/2) ||D1||^2", 1e-35 - e2,
            Report::num(double(c[2])) + " vs " + Report::num(double(first_order_b2)) + ", relative " +
                Report::num(e2));
  const mp50 at_h = abs(c[1]) * h;
  rep.note(what + ": dropped by the first-order bound at eta = h: eta^2 <G, D2> " +
           Report::num(double(dropped_b2 * h * h / at_h)) + ", eta^3 term " + Report::num(double(b3 * h * h * h / at_h)) +
           ", eta^4 term " + Report::num(double(b4 * h * h * h * h / at_h)) + " (of eta lambda^T u)");
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
  check_polynomials(rep, "rescaled factors", G, A, B, sys, s.u, L, eta0 / 4);
  check_polynomials(rep, "vanilla factors", G, A, B, sys, vanilla_squares<mp50>(A.cols()), L, eta0 / 4);

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
  return run("The loss bound: descent lemma for the exact increment; the library's predicted decrease is its "
             "first-order bound term by term in eta",
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
