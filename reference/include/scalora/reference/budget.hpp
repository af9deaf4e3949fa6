// SPDX-License-Identifier: Apache-2.0
// Error budgets in units of epsilon, each derived in docs/numerics.md: the
// library's accuracy on exactly known inputs (its unit tests), the lemma and
// re-split checks of compare_step and scalora-verify. The optimality verdict's
// budget is derived per case from the layer itself (judgement.hpp).
//
// Notation: eps is the epsilon of the type the quantity is computed in (the
// accumulation type for M, lambda, u; the storage type for rescaled
// matrices), n2 = 2r, len = max(m, n).
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>
#include <limits>

#include "scalora/linalg/optimal_scaling.hpp"

namespace scalora::reference::budget {

/// |M_ij - M*_ij| <= system_entry(m, n) eps sqrt(M*_ii M*_jj) and
/// |lambda_i - lambda*_i| <= system_entry(m, n) eps lambda*_i:
/// dot products of length m and n (gamma_m, gamma_n, Higham 3.1) and one product.
inline double system_entry(Index m, Index n) { return double(m + n + 2); }

/// Relative perturbation of the equilibrated system D M D w = D lambda,
/// D = diag(M)^{-1/2}, in the 2-norm: ||dM^||_2 <= ||dM^||_F <= n2 (m + n + 2) eps
/// from the entry bound, plus the backward error of pivoted Cholesky and the
/// two triangular solves (2 n2^2 eps, Higham Thm 10.3 with ||M^||_2 <= n2).
inline double equilibrated_perturbation(Index m, Index n, Index r) {
  const double n2 = double(2 * r);
  return n2 * system_entry(m, n) + 2.0 * n2 * n2;
}

/// 2-norm condition number of the equilibrated PSD matrix D M D on its
/// resolvable range: largest eigenvalue over the smallest one above
/// resolution times the largest (1 when M = 0). Directions below the
/// resolution (the a-priori error of computing M, equilibrated_perturbation()
/// eps of the working type) are treated as null, as the production solve and
/// resolvable_reference() do. Computed in double: only its order of magnitude
/// enters the budgets. resolution = 0 uses 64 n2 epsilon of double.
template <class T>
double equilibrated_condition(const Matrix<T>& M, double resolution = 0) {
  using std::sqrt;
  const Index n = M.rows();
  Matrix<double> a = Matrix<double>::Zero(n, n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) {
      const double mii = double(M(i, i)), mjj = double(M(j, j));
      if (mii > 0 && mjj > 0) a(i, j) = double(M(i, j) / (sqrt(M(i, i)) * sqrt(M(j, j))));
    }
  if (n == 0 || a.isZero(0)) return 1.0;
  if (!(resolution > 0)) resolution = 64.0 * double(n) * 2.220446049250313e-16;
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(a, Eigen::EigenvaluesOnly);
  const auto& ev = es.eigenvalues();  // ascending
  const double lmax = ev(n - 1);
  double lmin = lmax;
  for (Index i = 0; i < n; ++i)
    if (ev(i) > resolution * lmax) lmin = std::min(lmin, ev(i));
  return lmax / lmin;
}

/// Bound on the weighted relative error of the squared scalings of the column
/// branch,  E = ||W (u - u*)||_2 / ||W u*||_2,  W = diag(sqrt(M*_ii)):
///   E <= cond (eta + len + 2) (1 + cond rho) / (1 - cond eta) * eps,
/// eta = equilibrated_perturbation. rho = ||D (M v - lambda)|| / (||D M D|| ||D^{-1} v||)
/// is the residual ratio of the (least-squares) solution: 0 for a consistent
/// system; for a system truncated to its resolvable range, the size of lambda
/// outside that range, which the least-squares perturbation bound multiplies
/// by cond (Higham, Thm 20.1). Infinite when cond eta eps >= 1/2.
inline double column_solution(double cond, Index m, Index n, Index r, double eps, double rho = 0) {
  const double eta = equilibrated_perturbation(m, n, r) * eps;
  if (!(cond * eta < 0.5)) return std::numeric_limits<double>::infinity();
  return cond * (eta + double(std::max(m, n) + 2) * eps) * (1.0 + cond * rho) / (1.0 - cond * eta);
}

/// Factors, gradients and first moments rescaled by the APPLIED scalings (as
/// rounded to the storage type): one rounded product, |err| <= eps/2 relative;
/// the budget of 1 eps allows the product to be formed in a wider type and
/// rounded twice. Second moments v * (s * s): two rounded products, 2 eps.
inline double rescaled_entry() { return 1.0; }
inline double rescaled_second_moment() { return 2.0; }

/// The re-split keeps W: for every entry,
///   |(W_pt' + lora_scale A' B'^T) - (W_pt + lora_scale A B^T)|_ij
///     <= resplit(r) eps (|W_pt|_ij + s sum_k |A_ik| |B_jk| (1 + |alpha_k beta_k| + |1 - alpha_k beta_k|))
/// from the merge GEMM (r + 2 roundings), the rescaling (2) and the check's
/// own sum (r + 2).
inline double resplit(Index r) { return double(2 * r + 8); }

}  // namespace scalora::reference::budget
